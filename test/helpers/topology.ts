import { randomUUID } from 'node:crypto';
import { newRule } from '../../src/model/defaults.ts';
import type { Chain, Dhcp, IpAddrGroup, Network, Port, PortGroup, Route, Router, Rule } from '../../src/model/types.ts';
import { parseCidr } from '../../src/model/net.ts';
import { buildEthernet } from '../../src/packets/ethernet.ts';
import { macFromString } from '../../src/packets/bytes.ts';
import { parseEthernet } from '../../src/packets/ethernet.ts';
import { ipToInt } from '../../src/model/net.ts';
import { ETH_IPV4, type Ethernet, type Ipv4 } from '../../src/packets/types.ts';
import { matchOf } from '../../src/simulation/packet-match.ts';
import { simulate, simulateGenerated, type SimResult } from '../../src/simulation/simulator.ts';
import { SimState } from '../../src/simulation/state.ts';
import { sourceOf, VirtualTopology, type TopologyInput } from '../../src/simulation/topology.ts';

const basePort = (id: string): Port => ({
  id, networkId: null, routerId: null, vtepId: null, adminStateUp: true, inboundFilterId: null, outboundFilterId: null,
  tunnelKey: 0, vifId: null, hostId: null, interfaceName: null, previousHostId: null, peerId: null, qosPolicyId: null,
  inboundMirrorIds: [], outboundMirrorIds: [], postInFilterMirrorIds: [], preOutFilterMirrorIds: [], insertionIds: [],
  portGroupIds: [], routeIds: [], vlanId: 0, portSubnet: [], portMac: null, rtrPortVni: null, offRampVxlan: false, serviceContainerId: null,
});

/** Builds small virtual topologies for simulation tests, as the NSDB would hold them. */
export class TopoBuilder {
  readonly input: Required<TopologyInput> = {
    routers: [], networks: [], ports: [], routes: [], chains: [], rules: [], portGroups: [], ipAddrGroups: [], dhcps: [],
    arpTables: new Map(), macTables: new Map(),
  };
  private keys = 0;

  bridge(name = 'bridge', extra: Partial<Network> = {}): Network {
    const b: Network = { id: randomUUID(), tenantId: null, name, adminStateUp: true, inboundFilterId: null, outboundFilterId: null, inboundMirrorIds: [], outboundMirrorIds: [], qosPolicyId: null, portIds: [], vxlanPortIds: [], dhcpIds: [], ...extra };
    this.input.networks.push(b);
    return b;
  }

  router(name = 'router', extra: Partial<Router> = {}): Router {
    const r: Router = { id: randomUUID(), tenantId: null, name, adminStateUp: true, inboundFilterId: null, outboundFilterId: null, inboundMirrorIds: [], outboundMirrorIds: [], loadBalancerId: null, localRedirectChainId: null, forwardChainId: null, asNumber: null, portIds: [], routeIds: [], bgpNetworkIds: [], bgpPeerIds: [], ...extra };
    this.input.routers.push(r);
    return r;
  }

  bridgePort(b: Network, extra: Partial<Port> = {}): Port {
    const p: Port = { ...basePort(randomUUID()), networkId: b.id, tunnelKey: ++this.keys, ...extra };
    b.portIds.push(p.id);
    this.input.ports.push(p);
    return p;
  }

  /** A router port with its address (and the LOCAL route MidoNet adds). */
  routerPort(r: Router, cidr: string, mac = `02:00:00:00:${(++this.keys).toString(16).padStart(2, '0')}:01`, extra: Partial<Port> = {}): Port {
    const p: Port = { ...basePort(randomUUID()), routerId: r.id, portSubnet: [cidr], portMac: mac, tunnelKey: ++this.keys, ...extra };
    r.portIds.push(p.id);
    this.input.ports.push(p);
    this.route(r, { dst: `${parseCidr(cidr)!.address}/32`, port: p, type: 'Local' });
    return p;
  }

  link(a: Port, b: Port): void {
    a.peerId = b.id;
    b.peerId = a.id;
  }

  route(r: Router, o: { dst: string; src?: string; port?: Port; gw?: string; type?: Route['type']; weight?: number }): Route {
    const dst = parseCidr(o.dst)!;
    const src = parseCidr(o.src ?? '0.0.0.0/0')!;
    const rt: Route = {
      id: randomUUID(), routerId: r.id, nextHopPortId: o.port?.id ?? null, srcNetworkAddr: src.address, srcNetworkLength: src.length,
      dstNetworkAddr: dst.address, dstNetworkLength: dst.length, nextHopGateway: o.gw ?? null, weight: o.weight ?? 100, attributes: null,
      type: o.type ?? 'Normal', learned: false,
    };
    r.routeIds.push(rt.id);
    o.port?.routeIds.push(rt.id);
    this.input.routes.push(rt);
    return rt;
  }

  chain(name = 'chain'): Chain {
    const c: Chain = { id: randomUUID(), tenantId: null, name, ruleIds: [], jumpRuleIds: [], networkInboundIds: [], networkOutboundIds: [], routerInboundIds: [], routerOutboundIds: [], routerRedirectIds: [], routerForwardIds: [], portInboundIds: [], portOutboundIds: [] };
    this.input.chains.push(c);
    return c;
  }

  rule(c: Chain, fields: Partial<Rule> & Pick<Rule, 'type'>): Rule {
    const r = newRule(randomUUID(), c.id, fields);
    c.ruleIds.push(r.id);
    this.input.rules.push(r);
    return r;
  }

  portGroup(ports: Port[], stateful = false): PortGroup {
    const g: PortGroup = { id: randomUUID(), tenantId: null, name: 'pg', stateful, portIds: ports.map((p) => p.id), ruleIds: [] };
    for (const p of ports) p.portGroupIds.push(g.id);
    this.input.portGroups.push(g);
    return g;
  }

  ipAddrGroup(addresses: string[]): IpAddrGroup {
    const g: IpAddrGroup = { id: randomUUID(), name: 'ipg', addresses, inboundChainId: null, outboundChainId: null, ruleIds: [] };
    this.input.ipAddrGroups.push(g);
    return g;
  }

  dhcp(b: Network, d: Partial<Dhcp> & Pick<Dhcp, 'subnetAddress' | 'subnetLength'>): Dhcp {
    const x: Dhcp = { id: randomUUID(), networkId: b.id, defaultGateway: null, serverAddr: null, dnsServerAddrs: null, interfaceMtu: null, opt121Routes: [], enabled: true, hosts: [], ...d };
    b.dhcpIds.push(x.id);
    this.input.dhcps.push(x);
    return x;
  }

  arpEntry(b: Network, ip: string, mac: string): void {
    let t = this.input.arpTables.get(b.id);
    if (!t) this.input.arpTables.set(b.id, (t = new Map()));
    t.set(ip, mac);
  }

  build(): VirtualTopology {
    return new VirtualTopology(sourceOf(this.input));
  }
}

export interface Ip4Spec {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  ttl?: number;
  vlan?: number;
  frag?: { mf?: boolean; offset?: number };
}

function ip4(s: Ip4Spec, payload: Ipv4['payload'], protocol: number): Ethernet {
  return {
    dst: macFromString(s.dstMac), src: macFromString(s.srcMac), vlans: s.vlan !== undefined ? [s.vlan] : [], etherType: ETH_IPV4,
    payload: {
      kind: 'ipv4', tos: 0, id: 1, df: false, mf: s.frag?.mf ?? false, fragOffset: s.frag?.offset ?? 0, ttl: s.ttl ?? 64, protocol,
      src: ipToInt(s.src), dst: ipToInt(s.dst), options: new Uint8Array(0), payload,
    },
  };
}

export const udp = (s: Ip4Spec, sport: number, dport: number, data: Uint8Array = new Uint8Array(4)) => ip4(s, { kind: 'udp', srcPort: sport, dstPort: dport, payload: data }, 17);
export const tcp = (s: Ip4Spec, sport: number, dport: number, flags = 0x02) =>
  ip4(s, { kind: 'tcp', srcPort: sport, dstPort: dport, seq: 1000, ack: 0, flags, window: 65535, urgent: 0, options: new Uint8Array(0), payload: new Uint8Array(0) }, 6);
export const ping = (s: Ip4Spec, id = 7, seq = 1) => ip4(s, { kind: 'icmp', type: 8, code: 0, rest: ((id << 16) | seq) >>> 0, data: new Uint8Array(8) }, 1);

/** A simulation bench: a topology, its state and a clock. */
export class Sim {
  now = 1_000_000;
  readonly state = new SimState();
  constructor(readonly topology: VirtualTopology) {}

  /** Sends a frame in on a port (through the real codec: built to bytes, parsed back). */
  send(inPort: Port | string, frame: Ethernet, trace = false): SimResult {
    const parsed = parseEthernet(buildEthernet(frame));
    if (!parsed.ok) throw new Error(parsed.reason);
    const id = typeof inPort === 'string' ? inPort : inPort.id;
    return simulate(this.topology, this.state, matchOf(parsed.value, id), parsed.value, { now: this.now, trace });
  }

  /** Runs a packet a device generated, from the egress of its port. */
  emit(egressPort: string, frame: Ethernet): SimResult {
    return simulateGenerated(this.topology, this.state, egressPort, matchOf(frame, egressPort), frame, { now: this.now });
  }
}
