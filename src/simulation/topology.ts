import { macFromString, macToString } from '../packets/bytes.ts';
import { intToIp, ipToInt, parseCidr } from '../model/net.ts';
import { T, type Chain, type Dhcp, type IpAddrGroup, type Network, type Port, type PortGroup, type Route, type Router, type Rule } from '../model/types.ts';
import { compileRule, type SimRule } from './condition.ts';
import { NotYet } from './context.ts';
import { RoutingTable, type SimRoute } from './routing-table.ts';

/** A port as the simulation uses it. */
export interface SimPort {
  id: string;
  tag: string;
  kind: 'bridge' | 'router' | 'vxlan';
  deviceId: string;
  adminUp: boolean;
  inFilter: string | null;
  outFilter: string | null;
  peerId: string | null;
  hostId: string | null;
  interfaceName: string | null;
  tunnelKey: number;
  vlanId: number;
  /** Router ports: MAC and addresses. */
  mac: number;
  addrs: { ip: number; len: number }[];
  portGroups: string[];
}

/** The part of a bridge its ports make. */
interface BridgePorts {
  /** Ports with no peer, where flooded frames go. */
  readonly exteriorPorts: string[];
  /** MAC of a linked router port -> this bridge's port leading to it. */
  readonly routerPortByMac: Map<number, string>;
  /** IP of a linked router port -> its MAC (answered from the bridge, as MidoNet does). */
  readonly routerIpToMac: Map<number, number>;
}

export interface SimBridge extends BridgePorts {
  id: string;
  tag: string;
  name: string | null;
  adminUp: boolean;
  inFilter: string | null;
  outFilter: string | null;
  /** The bridge's ARP table (ip4_mac_table), seeded by Neutron or the API: ip -> mac. */
  arpTable: { get(ip: number): number | undefined };
  /** The port of a static MAC table entry (vlan, mac), if any. */
  staticMac(vlan: number, mac: number): string | undefined;
  /** Flow tags of MAC entries, made once per (vlan, mac): number formatting is costly per packet. */
  macTags: Map<number, Map<number, string>>;
  dhcp: Dhcp[];
}

export interface SimRouter {
  id: string;
  tag: string;
  name: string | null;
  adminUp: boolean;
  inFilters: string[];
  outFilters: string[];
  table: RoutingTable;
  /** Each port's own address -> port, for ARP and LOCAL delivery. */
  ownAddrs: Map<number, string>;
}

export interface SimChain {
  id: string;
  tag: string;
  name: string | null;
  rules: SimRule[];
}

export interface SimPortGroup {
  id: string;
  stateful: boolean;
  ports: Set<string>;
}

/** What the simulation reads of the virtual topology; a missing device throws NotYet. */
export interface Topology {
  port(id: string): SimPort;
  bridge(id: string): SimBridge;
  router(id: string): SimRouter;
  chain(id: string): SimChain;
  portGroup(id: string): SimPortGroup;
  ipAddrGroup(id: string): Set<number>;
}

/** Topology objects as stored, plus the bridge tables kept as state keys. */
export interface TopologyInput {
  routers: Router[];
  networks: Network[];
  ports: Port[];
  routes: Route[];
  chains: Chain[];
  rules: Rule[];
  portGroups: PortGroup[];
  ipAddrGroups: IpAddrGroup[];
  dhcps: Dhcp[];
  /** bridge id -> ip -> mac */
  arpTables?: Map<string, Map<string, string>>;
  /** bridge id -> entries */
  macTables?: Map<string, { vlan: number; mac: string; port: string }[]>;
}

/** A MAC table entry of a bridge (state key `mac_table/<vlan>/<mac>_<port>`). */
export interface MacEntry {
  vlan: number;
  mac: string;
  port: string;
}

/**
 * Where the stored objects a topology compiles come from: the agent's cache of what it follows,
 * or what a trace loaded. `object` answers null for an object known not to exist and throws
 * NotYet for one not loaded yet (the caller loads it and simulates again).
 */
export interface TopologySource {
  object<X>(type: string, id: string): X | null;
  /** A bridge's ARP table (ip -> mac), as far as it is known; undefined when its entries are read one by one. */
  arpTable(bridge: string): ReadonlyMap<string, string> | undefined;
  macTable(bridge: string): readonly MacEntry[] | undefined;
  /**
   * One entry of a bridge's ARP table (the MAC, null for none), for a source that reads entries
   * as packets ask for them (a trace); throws NotYet when not loaded yet.
   */
  arpEntry?(bridge: string, ip: string): string | null;
  /** The port of one MAC table entry (null for none), read as asked for; throws NotYet when not loaded yet. */
  macEntry?(bridge: string, vlan: number, mac: string): string | null;
  /** Routes agents learned for a router (BGP). */
  learnedRoutes(router: string): readonly Route[];
}

/** A device the topology points at that does not exist (deleted, or a dangling id): the packet is dropped. */
export class DeviceMissing extends Error {
  constructor(readonly type: string, readonly id: string) {
    super(`${type} ${id} does not exist`);
  }
}

/**
 * What compiling an object needs besides itself, so a loader fetches it all at once: a bridge's
 * DHCP subnets (its ports only when a packet needs them), a router's ports and routes, a chain's rules, a port's peer and groups,
 * a stateful group's members (flow state goes to their hosts).
 */
export function compileDeps(type: string, o: Record<string, unknown>): [string, string][] {
  const ids = (field: string): string[] => (Array.isArray(o[field]) ? (o[field] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
  const one = (field: string): string[] => (typeof o[field] === 'string' ? [o[field] as string] : []);
  switch (type) {
    case T.Network: return ids('dhcpIds').map((id) => [T.Dhcp, id]);
    case T.Router: return [...ids('portIds').map((id): [string, string] => [T.Port, id]), ...ids('routeIds').map((id): [string, string] => [T.Route, id])];
    case T.Chain: return ids('ruleIds').map((id) => [T.Rule, id]);
    case T.Port: return [...one('peerId').map((id): [string, string] => [T.Port, id]), ...ids('portGroupIds').map((id): [string, string] => [T.PortGroup, id])];
    case T.PortGroup: return o.stateful === true ? ids('portIds').map((id) => [T.Port, id]) : [];
    default: return [];
  }
}

/** The devices whose compiled form reads this object (to compile again when it changes). */
export function dependents(type: string, o: Record<string, unknown>): [string, string][] {
  const one = (field: string): string | null => (typeof o[field] === 'string' ? (o[field] as string) : null);
  const out: [string, string][] = [];
  const add = (t: string, id: string | null) => {
    if (id) out.push([t, id]);
  };
  switch (type) {
    case T.Port:
      add(T.Network, one('networkId'));
      add(T.Router, one('routerId'));
      break;
    case T.Route: add(T.Router, one('routerId')); break;
    case T.Rule: add(T.Chain, one('chainId')); break;
    case T.Dhcp: add(T.Network, one('networkId')); break;
  }
  return out;
}

/** A source over fixed lists (tests, benches): what the lists lack is not loaded. */
export function sourceOf(input: TopologyInput): TopologySource {
  const maps = new Map<string, Map<string, unknown>>([
    [T.Router, byId(input.routers)], [T.Network, byId(input.networks)], [T.Port, byId(input.ports)], [T.Route, byId(input.routes)],
    [T.Chain, byId(input.chains)], [T.Rule, byId(input.rules)], [T.PortGroup, byId(input.portGroups)],
    [T.IpAddrGroup, byId(input.ipAddrGroups)], [T.Dhcp, byId(input.dhcps)],
  ]);
  const learned = new Map<string, Route[]>();
  for (const rt of input.routes) {
    if (!rt.learned || !rt.routerId) continue;
    const list = learned.get(rt.routerId);
    if (list) list.push(rt);
    else learned.set(rt.routerId, [rt]);
  }
  return {
    object<X>(type: string, id: string): X | null {
      const v = maps.get(type)?.get(id);
      if (v === undefined) throw new NotYet(type, id);
      return v as X;
    },
    arpTable: (bridge) => input.arpTables?.get(bridge),
    macTable: (bridge) => input.macTables?.get(bridge),
    learnedRoutes: (router) => learned.get(router) ?? [],
  };
}

function byId<X extends { id: string }>(list: X[]): Map<string, X> {
  return new Map(list.map((x) => [x.id, x]));
}

/**
 * The virtual topology as the simulation reads it: each device compiled from its source on first
 * use and kept until `evict` says what it was built from changed, so a change costs the devices
 * it touches, not the topology.
 */
export class VirtualTopology implements Topology {
  // One cache per kind: looking a device up must not build a string per packet.
  private readonly ports = new Map<string, SimPort>();
  private readonly bridges = new Map<string, SimBridge>();
  private readonly routers = new Map<string, SimRouter>();
  private readonly chains = new Map<string, SimChain>();
  private readonly groups = new Map<string, SimPortGroup>();
  private readonly addrGroups = new Map<string, Set<number>>();
  readonly stats = { compiled: 0, compileMs: 0 };

  constructor(private readonly src: TopologySource) {}

  /** Forgets the compiled device of this type and id. */
  evict(type: string, id: string): void {
    const cache = this.cacheOf(type);
    cache?.delete(id);
  }

  /** Devices compiled and held now. */
  get size(): number {
    return this.ports.size + this.bridges.size + this.routers.size + this.chains.size + this.groups.size + this.addrGroups.size;
  }

  private cacheOf(type: string): Map<string, unknown> | null {
    switch (type) {
      case T.Port: return this.ports;
      case T.Network: return this.bridges;
      case T.Router: return this.routers;
      case T.Chain: return this.chains;
      case T.PortGroup: return this.groups;
      case T.IpAddrGroup: return this.addrGroups;
      default: return null;
    }
  }

  private memo<V>(cache: Map<string, V>, id: string, build: () => V): V {
    let v = cache.get(id);
    if (v === undefined) {
      const t0 = performance.now();
      cache.set(id, (v = build()));
      this.stats.compiled++;
      this.stats.compileMs += performance.now() - t0;
    }
    return v;
  }

  /** The stored object a device is compiled from; it must exist. */
  private need<V>(type: string, id: string): V {
    const v = this.src.object<V>(type, id);
    if (v === null) throw new DeviceMissing(type, id);
    return v;
  }

  /** A stored object compiling reads through, if it exists (a deleted one is left out). */
  private maybe<V>(type: string, id: string): V | null {
    return this.src.object<V>(type, id);
  }

  port(id: string): SimPort {
    return this.memo(this.ports, id, () => {
      const p = this.need<Port>(T.Port, id);
      const addrs = p.portSubnet.map(parseCidr).filter((c) => c !== null).map((c) => ({ ip: ipToInt(c.address), len: c.length }));
      return {
        id: p.id,
        tag: `d:${p.id}`,
        kind: p.vtepId ? 'vxlan' : p.networkId ? 'bridge' : 'router',
        deviceId: (p.networkId ?? p.routerId ?? p.vtepId)!,
        adminUp: p.adminStateUp,
        inFilter: p.inboundFilterId,
        outFilter: p.outboundFilterId,
        peerId: p.peerId,
        hostId: p.hostId,
        interfaceName: p.interfaceName,
        tunnelKey: p.tunnelKey,
        vlanId: p.vlanId ?? 0,
        mac: p.portMac ? macFromString(p.portMac) : 0,
        addrs,
        portGroups: p.portGroupIds,
      };
    });
  }

  bridge(id: string): SimBridge {
    return this.memo(this.bridges, id, () => {
      const b = this.need<Network>(T.Network, id);
      const { arpTable, staticMac } = this.tables(id);
      const dhcp: Dhcp[] = [];
      for (const d of b.dhcpIds) {
        const x = this.maybe<Dhcp>(T.Dhcp, d);
        if (x?.enabled) dhcp.push(x);
      }
      // A bridge of a whole cloud's gateways has thousands of ports: they are read only when a
      // packet floods or needs a router port the MAC and ARP tables do not name.
      let ports: BridgePorts | null = null;
      const portsOf = () => (ports ??= this.bridgePorts(b));
      return {
        id,
        tag: `d:${id}`,
        name: b.name,
        adminUp: b.adminStateUp,
        inFilter: b.inboundFilterId,
        outFilter: b.outboundFilterId,
        get exteriorPorts() {
          return portsOf().exteriorPorts;
        },
        get routerPortByMac() {
          return portsOf().routerPortByMac;
        },
        get routerIpToMac() {
          return portsOf().routerIpToMac;
        },
        arpTable,
        staticMac,
        macTags: new Map(),
        dhcp,
      };
    });
  }

  /**
   * A bridge's ARP and MAC tables: whole, from a source that follows them (an agent), or entry by
   * entry, from one that reads what packets ask for (a trace).
   */
  private tables(id: string): Pick<SimBridge, 'arpTable' | 'staticMac'> {
    const src = this.src;
    const whole = src.arpTable(id);
    if (whole === undefined && src.arpEntry && src.macEntry) {
      return {
        arpTable: { get: (ip) => {
          const mac = src.arpEntry!(id, intToIp(ip));
          return mac === null ? undefined : macFromString(mac);
        } },
        staticMac: (vlan, mac) => src.macEntry!(id, vlan, macToString(mac)) ?? undefined,
      };
    }
    const arp = new Map<number, number>();
    for (const [ip, mac] of whole ?? []) arp.set(ipToInt(ip), macFromString(mac));
    const macs = new Map<number, Map<number, string>>();
    for (const e of src.macTable(id) ?? []) {
      let v = macs.get(e.vlan);
      if (!v) macs.set(e.vlan, (v = new Map()));
      v.set(macFromString(e.mac), e.port);
    }
    return { arpTable: arp, staticMac: (vlan, mac) => macs.get(vlan)?.get(mac) };
  }

  /**
   * What a bridge's ports make of it: where floods go, and its linked router ports. Every port
   * missing is asked for before waiting, so they arrive together.
   */
  private bridgePorts(b: Network): BridgePorts {
    const exteriorPorts: string[] = [];
    const routerPortByMac = new Map<number, string>();
    const routerIpToMac = new Map<number, number>();
    let missing: NotYet | null = null;
    const read = (pid: string): Port | null => {
      try {
        return this.maybe<Port>(T.Port, pid);
      } catch (err) {
        if (!(err instanceof NotYet)) throw err;
        missing ??= err;
        return null;
      }
    };
    const linked: [string, string][] = [];
    for (const pid of b.portIds) {
      const p = read(pid);
      if (!p) continue;
      if (p.peerId) linked.push([pid, p.peerId]);
      else exteriorPorts.push(pid);
    }
    for (const [pid, peerId] of linked) {
      const peer = read(peerId);
      if (!peer?.routerId || !peer.portMac) continue;
      const mac = macFromString(peer.portMac);
      routerPortByMac.set(mac, pid);
      for (const s of peer.portSubnet) {
        const c = parseCidr(s);
        if (c) routerIpToMac.set(ipToInt(c.address), mac);
      }
    }
    if (missing) throw missing;
    return { exteriorPorts, routerPortByMac, routerIpToMac };
  }

  router(id: string): SimRouter {
    return this.memo(this.routers, id, () => {
      const r = this.need<Router>(T.Router, id);
      const routes: SimRoute[] = [];
      const learned = this.src.learnedRoutes(id).filter((rt) => !r.routeIds.includes(rt.id));
      for (const rt of [...r.routeIds.map((rid) => this.maybe<Route>(T.Route, rid)), ...learned]) {
        if (!rt) continue;
        routes.push({
          id: rt.id,
          src: ipToInt(rt.srcNetworkAddr),
          srcLen: rt.srcNetworkLength,
          dst: ipToInt(rt.dstNetworkAddr),
          dstLen: rt.dstNetworkLength,
          kind: rt.type,
          portId: rt.nextHopPortId,
          gateway: rt.nextHopGateway && rt.nextHopGateway !== '0.0.0.0' ? ipToInt(rt.nextHopGateway) : 0,
          weight: rt.weight,
        });
      }
      const ownAddrs = new Map<number, string>();
      for (const pid of r.portIds) {
        const p = this.maybe<Port>(T.Port, pid);
        for (const s of p?.portSubnet ?? []) {
          const c = parseCidr(s);
          if (c) ownAddrs.set(ipToInt(c.address), pid);
        }
      }
      return {
        id,
        tag: `d:${id}`,
        name: r.name,
        adminUp: r.adminStateUp,
        inFilters: [r.localRedirectChainId, r.inboundFilterId].filter((c): c is string => c !== null),
        outFilters: [r.forwardChainId, r.outboundFilterId].filter((c): c is string => c !== null),
        table: new RoutingTable(routes),
        ownAddrs,
      };
    });
  }

  chain(id: string): SimChain {
    return this.memo(this.chains, id, () => {
      const c = this.need<Chain>(T.Chain, id);
      const rules: SimRule[] = [];
      for (const r of c.ruleIds) {
        const rule = this.maybe<Rule>(T.Rule, r);
        if (rule) rules.push(compileRule(rule));
      }
      return { id, tag: `d:${id}`, name: c.name, rules };
    });
  }

  portGroup(id: string): SimPortGroup {
    return this.memo(this.groups, id, () => {
      const g = this.need<PortGroup>(T.PortGroup, id);
      return { id, stateful: g.stateful, ports: new Set(g.portIds) };
    });
  }

  ipAddrGroup(id: string): Set<number> {
    return this.memo(this.addrGroups, id, () => {
      const g = this.need<IpAddrGroup>(T.IpAddrGroup, id);
      return new Set(g.addresses.filter((a) => a.includes('.')).map(ipToInt));
    });
  }
}
