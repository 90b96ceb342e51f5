import { macFromString } from '../packets/bytes.ts';
import { ipToInt, parseCidr } from '../model/net.ts';
import type { Chain, Dhcp, IpAddrGroup, Network, Port, PortGroup, Route, Router, Rule } from '../model/types.ts';
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

export interface SimBridge {
  id: string;
  tag: string;
  name: string | null;
  adminUp: boolean;
  inFilter: string | null;
  outFilter: string | null;
  /** Ports with no peer, where flooded frames go. */
  exteriorPorts: string[];
  /** MAC of a linked router port -> this bridge's port leading to it. */
  routerPortByMac: Map<number, string>;
  /** IP of a linked router port -> its MAC (answered from the bridge, as MidoNet does). */
  routerIpToMac: Map<number, number>;
  /** The bridge's ARP table (ip4_mac_table), seeded by Neutron or the API. */
  arpTable: Map<number, number>;
  /** Static MAC table entries: vlan -> mac -> port. */
  staticMacs: Map<number, Map<number, string>>;
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

function byId<T extends { id: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [x.id, x]));
}

/**
 * A topology built from stored objects, each device compiled on first use and kept. The agent
 * rebuilds the devices a change touches; the trace API builds one per request.
 */
export class SnapshotTopology implements Topology {
  private readonly raw: {
    routers: Map<string, Router>;
    networks: Map<string, Network>;
    ports: Map<string, Port>;
    routes: Map<string, Route>;
    chains: Map<string, Chain>;
    rules: Map<string, Rule>;
    portGroups: Map<string, PortGroup>;
    ipAddrGroups: Map<string, IpAddrGroup>;
    dhcps: Map<string, Dhcp>;
    /** Learned routes (BGP) are not the router's objects: found here by the router they name. */
    learned: Map<string, Route[]>;
  };
  // One cache per kind: looking a device up must not build a string per packet.
  private readonly ports = new Map<string, SimPort>();
  private readonly bridges = new Map<string, SimBridge>();
  private readonly routers = new Map<string, SimRouter>();
  private readonly chains = new Map<string, SimChain>();
  private readonly groups = new Map<string, SimPortGroup>();
  private readonly addrGroups = new Map<string, Set<number>>();

  constructor(private readonly input: TopologyInput) {
    this.raw = {
      routers: byId(input.routers),
      networks: byId(input.networks),
      ports: byId(input.ports),
      routes: byId(input.routes),
      chains: byId(input.chains),
      rules: byId(input.rules),
      portGroups: byId(input.portGroups),
      ipAddrGroups: byId(input.ipAddrGroups),
      dhcps: byId(input.dhcps),
      learned: new Map(),
    };
    for (const rt of input.routes) {
      if (!rt.learned || !rt.routerId) continue;
      const list = this.raw.learned.get(rt.routerId);
      if (list) list.push(rt);
      else this.raw.learned.set(rt.routerId, [rt]);
    }
  }

  private memo<T>(cache: Map<string, T>, id: string, build: () => T): T {
    let v = cache.get(id);
    if (v === undefined) cache.set(id, (v = build()));
    return v;
  }

  private need<T>(map: Map<string, T>, type: string, id: string): T {
    const v = map.get(id);
    if (!v) throw new NotYet(type, id);
    return v;
  }

  rawPort(id: string): Port | undefined {
    return this.raw.ports.get(id);
  }

  port(id: string): SimPort {
    return this.memo(this.ports, id, () => {
      const p = this.need(this.raw.ports, 'Port', id);
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
      const b = this.need(this.raw.networks, 'Network', id);
      const exteriorPorts: string[] = [];
      const routerPortByMac = new Map<number, string>();
      const routerIpToMac = new Map<number, number>();
      for (const pid of b.portIds) {
        const p = this.raw.ports.get(pid);
        if (!p) continue;
        if (!p.peerId) {
          exteriorPorts.push(pid);
          continue;
        }
        const peer = this.raw.ports.get(p.peerId);
        if (peer?.routerId && peer.portMac) {
          const mac = macFromString(peer.portMac);
          routerPortByMac.set(mac, pid);
          for (const s of peer.portSubnet) {
            const c = parseCidr(s);
            if (c) routerIpToMac.set(ipToInt(c.address), mac);
          }
        }
      }
      const arpTable = new Map<number, number>();
      for (const [ip, mac] of this.input.arpTables?.get(id) ?? []) arpTable.set(ipToInt(ip), macFromString(mac));
      const staticMacs = new Map<number, Map<number, string>>();
      for (const e of this.input.macTables?.get(id) ?? []) {
        let v = staticMacs.get(e.vlan);
        if (!v) staticMacs.set(e.vlan, (v = new Map()));
        v.set(macFromString(e.mac), e.port);
      }
      return {
        id,
        tag: `d:${id}`,
        name: b.name,
        adminUp: b.adminStateUp,
        inFilter: b.inboundFilterId,
        outFilter: b.outboundFilterId,
        exteriorPorts,
        routerPortByMac,
        routerIpToMac,
        arpTable,
        staticMacs,
        macTags: new Map(),
        dhcp: b.dhcpIds.map((d) => this.raw.dhcps.get(d)).filter((d): d is Dhcp => d !== undefined && d.enabled),
      };
    });
  }

  router(id: string): SimRouter {
    return this.memo(this.routers, id, () => {
      const r = this.need(this.raw.routers, 'Router', id);
      const routes: SimRoute[] = [];
      const learned = (this.raw.learned.get(id) ?? []).filter((rt) => !r.routeIds.includes(rt.id));
      for (const rt of [...r.routeIds.map((rid) => this.raw.routes.get(rid)), ...learned]) {
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
        const p = this.raw.ports.get(pid);
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
      const c = this.need(this.raw.chains, 'Chain', id);
      return { id, tag: `d:${id}`, name: c.name, rules: c.ruleIds.map((r) => compileRule(this.need(this.raw.rules, 'Rule', r))) };
    });
  }

  portGroup(id: string): SimPortGroup {
    return this.memo(this.groups, id, () => {
      const g = this.need(this.raw.portGroups, 'PortGroup', id);
      return { id, stateful: g.stateful, ports: new Set(g.portIds) };
    });
  }

  ipAddrGroup(id: string): Set<number> {
    return this.memo(this.addrGroups, id, () => {
      const g = this.need(this.raw.ipAddrGroups, 'IPAddrGroup', id);
      return new Set(g.addresses.filter((a) => a.includes('.')).map(ipToInt));
    });
  }
}

