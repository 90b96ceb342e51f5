import type { TopologyMessage } from '../cluster/topology-service.ts';
import { NT } from '../model/neutron.ts';
import { T, type Chain, type Dhcp, type Host, type IpAddrGroup, type Network, type Port, type PortGroup, type Route, type Router, type Rule, type TunnelZone } from '../model/types.ts';
import { SnapshotTopology } from '../simulation/topology.ts';
import type { ClusterClient } from './cluster-client.ts';

/**
 * The types the agent follows: everything the simulation reads, plus hosts and tunnel zones, BGP
 * peers and networks (gateways speak BGP), and Neutron's ports (the metadata proxy names a port's
 * instance and project).
 */
export const FOLLOWED = [T.Router, T.Network, T.Port, T.Route, T.Chain, T.Rule, T.PortGroup, T.IpAddrGroup, T.Dhcp, T.Host, T.TunnelZone, T.BgpPeer, T.BgpNetwork, NT.Port] as const;

type Stored = { id: string } & Record<string, unknown>;

/** Fields naming the devices a change also affects: their flows must go too. */
const PARENTS = ['networkId', 'routerId', 'chainId', 'peerId', 'nextHopPortId', 'jumpChainId'] as const;

/**
 * The agent's copy of the virtual topology, fed by the cluster's topology stream. It keeps
 * serving the last known topology while no cluster answers. Every change reports the flow tags
 * it invalidates; the simulation snapshot is rebuilt lazily after a change.
 */
export class TopologyCache {
  private readonly objects = new Map<string, Map<string, Stored>>(FOLLOWED.map((t) => [t, new Map()]));
  private snapshot: SnapshotTopology | null = null;
  /** Bridges' ARP tables (state keys `arp_table/<ip>` of a Network), answered by the bridge for its VMs. */
  private readonly arpTables = new Map<string, Map<string, string>>();
  /** Routes agents learned for each router (state keys `learned_routes/<name>` of a Router). */
  private readonly learned = new Map<string, Map<string, Route>>();
  /** Port active states the agent follows (for ports on other hosts). */
  readonly activePorts = new Set<string>();

  constructor(
    private readonly client: ClusterClient,
    private readonly onChange: (tags: string[], type: string, obj: Stored | null, old: Stored | null) => void,
    /** Router ARP entries learned by any agent (state keys `arp_table/<ip>` of a Router). */
    private readonly onArp: (router: string, ip: number, mac: number) => void,
  ) {
    for (const type of FOLLOWED) client.subscribe({ op: 'watchType', type });
    client.on('message', (m: TopologyMessage) => this.handle(m));
  }

  private handle(m: TopologyMessage): void {
    if (m.op === 'state') {
      if (m.type === T.Port && m.key === 'active') {
        if (m.value === null) this.activePorts.delete(m.id);
        else this.activePorts.add(m.id);
        this.onChange([`d:${m.id}`], 'state', null, null);
      } else if (m.type === T.Router && m.key.startsWith('arp_table/') && m.value !== null) {
        this.onArp(m.id, Number(m.key.slice('arp_table/'.length)), Number(m.value));
      } else if (m.type === T.Network && m.key.startsWith('arp_table/')) {
        this.putEntry(this.arpTables, m.id, m.key.slice('arp_table/'.length), m.value);
      } else if (m.type === T.Router && m.key.startsWith('learned_routes/')) {
        this.putEntry(this.learned, m.id, m.key.slice('learned_routes/'.length), m.value === null ? null : (JSON.parse(m.value) as Route));
      }
      return;
    }
    if (m.op !== 'update' && m.op !== 'delete') return;
    const map = this.objects.get(m.type);
    if (!map) return;
    const old = map.get(m.id) ?? null;
    const obj = m.op === 'update' ? (m.value as Stored) : null;
    if (obj) map.set(m.id, obj);
    else map.delete(m.id);
    if (!obj) {
      this.arpTables.delete(m.id);
      this.learned.delete(m.id);
    }
    if (m.type === T.Network && obj && !old) this.client.subscribe({ op: 'watchStateDir', type: T.Network, id: m.id, key: 'arp_table' });
    if (m.type === T.Router && obj && !old) this.client.subscribe({ op: 'watchStateDir', type: T.Router, id: m.id, key: 'learned_routes' });
    this.snapshot = null;
    const tags = new Set([`d:${m.id}`]);
    for (const o of [old, obj]) for (const f of PARENTS) if (o && typeof o[f] === 'string') tags.add(`d:${o[f] as string}`);
    this.onChange([...tags], m.type, obj, old);
  }

  /** One entry of a device's state table (a bridge's ARP table, a router's learned routes); null removes it. */
  private putEntry<V>(tables: Map<string, Map<string, V>>, device: string, name: string, value: V | null): void {
    let table = tables.get(device);
    if (!table) tables.set(device, (table = new Map()));
    if (value === null) table.delete(name);
    else table.set(name, value);
    this.snapshot = null;
    this.onChange([`d:${device}`], 'state', null, null);
  }

  /** Follows a router's ARP entry for ip, learned wherever the reply arrived. */
  followArp(router: string, ip: number): void {
    this.client.subscribe({ op: 'watchState', type: T.Router, id: router, key: `arp_table/${ip}` });
  }

  /** Publishes an ARP entry this agent learned, for the other agents routing through the router. */
  publishArp(router: string, ip: number, mac: number): void {
    this.client.setState(T.Router, router, `arp_table/${ip}`, String(mac));
  }

  /** Follows whether a port (bound on another host) is active. */
  followActive(portId: string): void {
    this.client.subscribe({ op: 'watchState', type: T.Port, id: portId, key: 'active' });
  }

  all<X>(type: string): X[] {
    return [...(this.objects.get(type)?.values() ?? [])] as unknown as X[];
  }

  get<X>(type: string, id: string): X | undefined {
    return this.objects.get(type)?.get(id) as X | undefined;
  }

  topology(): SnapshotTopology {
    if (!this.snapshot) {
      this.snapshot = new SnapshotTopology({
        routers: this.all<Router>(T.Router),
        networks: this.all<Network>(T.Network),
        ports: this.all<Port>(T.Port),
        routes: [...this.all<Route>(T.Route), ...[...this.learned.values()].flatMap((m) => [...m.values()])],
        chains: this.all<Chain>(T.Chain),
        rules: this.all<Rule>(T.Rule),
        portGroups: this.all<PortGroup>(T.PortGroup),
        ipAddrGroups: this.all<IpAddrGroup>(T.IpAddrGroup),
        dhcps: this.all<Dhcp>(T.Dhcp),
        arpTables: this.arpTables,
      });
    }
    return this.snapshot;
  }

  hosts(): Host[] {
    return this.all<Host>(T.Host);
  }

  tunnelZones(): TunnelZone[] {
    return this.all<TunnelZone>(T.TunnelZone);
  }
}
