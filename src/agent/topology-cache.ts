import type { TopologyMessage } from '../model/topology-protocol.ts';
import { isIpv4, isMac } from '../model/net.ts';
import { NT } from '../model/neutron.ts';
import { macTableKey, readLearnedRoute } from '../model/state-keys.ts';
import { macFromString, macToString } from '../packets/bytes.ts';
import { macTagOf } from '../simulation/bridge.ts';
import { hasShape } from '../model/shapes.ts';
import { T, type Host, type Network, type Port, type Route, type Router, type TunnelZone } from '../model/types.ts';
import { NotYet } from '../simulation/context.ts';
import { compileDeps, dependents, VirtualTopology, type MacEntry, type TopologySource } from '../simulation/topology.ts';
import type { ClusterClient } from './cluster-client.ts';
import { log } from '../conf/log.ts';

const logger = log('topology');

type Stored = { id: string } & Record<string, unknown>;

const key = (type: string, id: string) => `${type}/${id}`;

/** A bridge's state tables the agent follows: its ARP table and the MAC table of the untagged VLAN. */
const BRIDGE_TABLES = ['arp_table', 'mac_table/0'];

/** Fields naming the devices a change also affects: their flows must go too. */
const PARENTS = ['networkId', 'routerId', 'chainId', 'peerId', 'nextHopPortId', 'jumpChainId'] as const;

export interface CacheEvents {
  /** A change: the flow tags it invalidates, its type, the new and the old value. */
  changed(tags: string[], type: string, obj: Stored | null, old: Stored | null): void;
  /** An object arrived (or its port's active state did): packets waiting for it may go on. */
  arrived(type: string, id: string): void;
  /** A router ARP entry learned by any agent (state keys `arp_table/<ip>` of a Router). */
  arp(router: string, ip: number, mac: number): void;
}

interface Followed {
  type: string;
  id: string;
  /** When a simulation last compiled from it (or it arrived). */
  used: number;
}

/**
 * The part of the virtual topology this agent needs, fed by the cluster's topology stream one
 * object at a time, as MidoNet's VirtualTopology does: its host, the ports bound to it and their
 * tunnel zones (and, for gateway ports, the router's BGP settings) always; any other device when
 * a simulation first reaches it (the packet waits, NotYet, until it arrives), with what compiling
 * it needs; devices no flow has used for a while are dropped. A change recompiles only the devices
 * built from it and reports the flow tags it invalidates. It keeps serving what it has while no
 * cluster answers.
 */
export class TopologyCache implements TopologySource {
  private readonly objects = new Map<string, Stored | null>();
  private readonly followed = new Map<string, Followed>();
  /** Ports bound on other hosts whose active state has not arrived yet: not ready for simulation. */
  private readonly pendingActive = new Set<string>();
  /** Port active states followed (ports bound on other hosts). */
  readonly activePorts = new Set<string>();
  private readonly watchingActive = new Set<string>();
  /** Bridges' ARP tables (state keys `arp_table/<ip>` of a Network). */
  private readonly arpTables = new Map<string, Map<string, string>>();
  /** Bridges' MAC tables of the untagged VLAN (state keys `mac_table/0/<mac>_<port>`, Neutron's ports). */
  private readonly macTables = new Map<string, Map<string, MacEntry>>();
  /** MACs this host put in bridges' MAC tables: `bridge|mac` -> the local port. */
  private readonly publishedMacs = new Map<string, string>();
  /** Routes agents learned for each router (state keys `learned_routes/<name>` of a Router). */
  private readonly learned = new Map<string, Map<string, Route>>();
  readonly topology = new VirtualTopology(this);
  readonly counters = { messages: 0, updates: 0, stateMessages: 0, handlerErrors: 0, badValues: 0, loads: 0, dropped: 0 };

  constructor(
    private readonly client: ClusterClient,
    readonly hostId: string,
    private readonly events: CacheEvents,
  ) {
    client.on('message', (m: TopologyMessage) => {
      this.counters.messages++;
      try {
        this.handle(m);
      } catch (err) {
        // No message may stop the agent: count it, say it, go on.
        this.counters.handlerErrors++;
        logger.error({ err: (err as Error).message }, 'topology message not handled');
      }
    });
    this.follow(T.Host, hostId, Date.now());
  }

  /** Subscribes to an object (and keeps it until `sweep` drops it). */
  private follow(type: string, id: string, now: number): void {
    const k = key(type, id);
    const f = this.followed.get(k);
    if (f) {
      f.used = now;
      return;
    }
    this.followed.set(k, { type, id, used: now });
    this.counters.loads++;
    this.client.subscribe({ op: 'watch', type, id });
  }

  private unfollow(f: Followed): void {
    const k = key(f.type, f.id);
    this.followed.delete(k);
    this.client.unsubscribe({ op: 'watch', type: f.type, id: f.id });
    const old = this.objects.get(k) ?? null;
    this.objects.delete(k);
    if (f.type === T.Port) this.unwatchActive(f.id);
    if (f.type === T.Network) {
      for (const dir of BRIDGE_TABLES) this.client.unsubscribe({ op: 'watchStateDir', type: T.Network, id: f.id, key: dir });
      this.arpTables.delete(f.id);
      this.macTables.delete(f.id);
    }
    if (f.type === T.Router) {
      this.client.unsubscribe({ op: 'watchStateDir', type: T.Router, id: f.id, key: 'learned_routes' });
      this.learned.delete(f.id);
    }
    this.evict(f.type, f.id, old, null);
    this.counters.dropped++;
  }

  // TopologySource: what compiling a device reads.

  object<X>(type: string, id: string): X | null {
    const k = key(type, id);
    const v = this.objects.get(k);
    if (v === undefined || (type === T.Port && this.pendingActive.has(id))) {
      this.follow(type, id, Date.now());
      throw new NotYet(type, id);
    }
    this.followed.get(k)!.used = Date.now();
    return v as X | null;
  }

  arpTable(bridge: string): ReadonlyMap<string, string> | undefined {
    return this.arpTables.get(bridge);
  }

  macTable(bridge: string): readonly MacEntry[] | undefined {
    const t = this.macTables.get(bridge);
    return t ? [...t.values()] : undefined;
  }

  learnedRoutes(router: string): readonly Route[] {
    return [...(this.learned.get(router)?.values() ?? [])];
  }

  private handle(m: TopologyMessage): void {
    if (m.op === 'state') {
      this.counters.stateMessages++;
      this.onState(m.type, m.id, m.key, m.value);
      return;
    }
    if (m.op !== 'update' && m.op !== 'delete') return;
    const k = key(m.type, m.id);
    // Late answers for objects dropped meanwhile are not wanted.
    if (!this.followed.has(k)) return;
    if (m.op === 'update' && !hasShape(m.type, m.value)) {
      // Not what the cluster stores: keep what we had rather than compute with it.
      this.counters.badValues++;
      return;
    }
    this.counters.updates++;
    const old = this.objects.get(k) ?? null;
    const obj = m.op === 'update' ? (m.value as Stored) : null;
    this.objects.set(k, obj);
    const now = Date.now();
    if (obj) for (const [t, id] of compileDeps(m.type, obj)) this.follow(t, id, now);
    this.onObject(m.type, m.id, obj, old, now);
    this.evict(m.type, m.id, old, obj);
    const tags = new Set([`d:${m.id}`]);
    for (const o of [old, obj]) for (const f of PARENTS) if (o && typeof o[f] === 'string') tags.add(`d:${o[f] as string}`);
    this.events.changed([...tags], m.type, obj, old);
    this.events.arrived(m.type, m.id);
  }

  /** What following an object brings along: its state, and for the roots the objects they name. */
  private onObject(type: string, id: string, obj: Stored | null, old: Stored | null, now: number): void {
    if (type === T.Host && id === this.hostId && obj) {
      const host = obj as unknown as Host;
      for (const p of host.portIds) {
        this.follow(T.Port, p, now);
        // The metadata proxy names a port's instance and project.
        this.follow(NT.Port, p, now);
      }
      for (const tz of host.tunnelZoneIds) this.follow(T.TunnelZone, tz, now);
    }
    if (type === T.Port && obj) {
      const p = obj as unknown as Port;
      if (p.hostId === this.hostId && p.routerId) this.followGateway(p.routerId, now);
      if (p.hostId && p.hostId !== this.hostId && !p.peerId) this.watchActive(id);
      else this.unwatchActive(id);
    }
    if (type === T.Network && obj && !old) for (const dir of BRIDGE_TABLES) this.client.subscribe({ op: 'watchStateDir', type: T.Network, id, key: dir });
    if (type === T.Router && obj) {
      if (!old) this.client.subscribe({ op: 'watchStateDir', type: T.Router, id, key: 'learned_routes' });
      if (this.boundPorts().some((p) => p.routerId === id)) this.followGateway(id, now);
    }
    if (!obj) {
      this.arpTables.delete(id);
      this.macTables.delete(id);
      this.learned.delete(id);
    }
  }

  /** A router with a port bound here: it and its BGP peers and networks are followed for the speaker. */
  private followGateway(router: string, now: number): void {
    this.follow(T.Router, router, now);
    const r = this.get<Router>(T.Router, router);
    for (const b of r?.bgpPeerIds ?? []) this.follow(T.BgpPeer, b, now);
    for (const b of r?.bgpNetworkIds ?? []) this.follow(T.BgpNetwork, b, now);
  }

  private watchActive(port: string): void {
    if (this.watchingActive.has(port)) return;
    this.watchingActive.add(port);
    this.pendingActive.add(port);
    this.client.subscribe({ op: 'watchState', type: T.Port, id: port, key: 'active' });
  }

  private unwatchActive(port: string): void {
    if (!this.watchingActive.delete(port)) return;
    this.pendingActive.delete(port);
    this.activePorts.delete(port);
    this.client.unsubscribe({ op: 'watchState', type: T.Port, id: port, key: 'active' });
  }

  private onState(type: string, id: string, name: string, value: string | null): void {
    if (type === T.Port && name === 'active') {
      if (!this.watchingActive.has(id)) return;
      if (value === null) this.activePorts.delete(id);
      else this.activePorts.add(id);
      const waited = this.pendingActive.delete(id);
      this.events.changed([`d:${id}`], 'state', null, null);
      if (waited) this.events.arrived(T.Port, id);
    } else if (type === T.Router && name.startsWith('arp_table/') && value !== null) {
      const ip = Number(name.slice('arp_table/'.length));
      const mac = Number(value);
      if (!Number.isInteger(ip) || ip < 0 || ip > 0xffffffff || !Number.isInteger(mac) || mac < 0 || mac > 0xffffffffffff) {
        this.counters.badValues++;
        return;
      }
      this.events.arp(id, ip, mac);
    } else if (type === T.Network && name.startsWith('arp_table/')) {
      if (!this.objects.get(key(T.Network, id))) return;
      const ip = name.slice('arp_table/'.length);
      if (!isIpv4(ip) || (value !== null && !isMac(value))) {
        this.counters.badValues++;
        return;
      }
      this.putEntry(this.arpTables, T.Network, id, ip, value);
    } else if (type === T.Network && name.startsWith('mac_table/0/')) {
      if (!this.objects.get(key(T.Network, id))) return;
      const entry = name.slice('mac_table/0/'.length);
      const [mac, port] = entry.split('_');
      if (!mac || !port || !isMac(mac)) {
        this.counters.badValues++;
        return;
      }
      this.putEntry(this.macTables, T.Network, id, entry, value === null ? null : { vlan: 0, mac, port }, [macTagOf(id, 0, macFromString(mac))]);
      // Learned on another port (a VM moved): the entry this host published for it is stale.
      const mine = this.publishedMacs.get(`${id}|${mac}`);
      if (value !== null && mine !== undefined && mine !== port) this.unpublishMac(id, mac, mine);
    } else if (type === T.Router && name.startsWith('learned_routes/')) {
      if (!this.objects.get(key(T.Router, id))) return;
      const route = value === null ? null : readLearnedRoute(id, value);
      if (value !== null && route === null) {
        this.counters.badValues++;
        return;
      }
      this.putEntry(this.learned, T.Router, id, name.slice('learned_routes/'.length), route);
    }
  }

  /** One entry of a device's state table (a bridge's ARP table, a router's learned routes); null removes it. */
  /** A table entry changed: the device is compiled again, and the flows that used the entry (by default, all of the device's) go. */
  private putEntry<V>(tables: Map<string, Map<string, V>>, type: string, device: string, name: string, value: V | null, tags = [`d:${device}`]): void {
    let table = tables.get(device);
    if (!table) tables.set(device, (table = new Map()));
    if (value === null) table.delete(name);
    else table.set(name, value);
    this.topology.evict(type, device);
    this.events.changed(tags, 'state', null, null);
  }

  /** Forgets the compiled devices built from an object that changed (or was dropped). */
  private evict(type: string, id: string, old: Stored | null, obj: Stored | null): void {
    this.topology.evict(type, id);
    for (const o of [old, obj]) {
      if (!o) continue;
      for (const [t, d] of dependents(type, o)) this.topology.evict(t, d);
      // A bridge compiles the MACs of the router ports its ports are linked to.
      const peer = type === T.Port && typeof o.peerId === 'string' ? this.objects.get(key(T.Port, o.peerId)) : null;
      if (peer) for (const [t, d] of dependents(T.Port, peer)) this.topology.evict(t, d);
    }
  }

  /**
   * Drops what nothing needs: objects no simulation compiled from for `idleMs` and no flow is
   * tagged with, unless a root (this host, its bound ports, their tunnel zones and BGP settings)
   * or needed to compile what stays.
   */
  sweep(now: number, idleMs: number, inUse: (tag: string) => boolean): number {
    const keep = new Set<string>([key(T.Host, this.hostId)]);
    const host = this.get<Host>(T.Host, this.hostId);
    for (const p of host?.portIds ?? []) {
      keep.add(key(T.Port, p));
      keep.add(key(NT.Port, p));
    }
    for (const tz of host?.tunnelZoneIds ?? []) keep.add(key(T.TunnelZone, tz));
    for (const p of this.boundPorts()) {
      const r = p.routerId ? this.get<Router>(T.Router, p.routerId) : undefined;
      if (!r) continue;
      keep.add(key(T.Router, r.id));
      for (const b of r.bgpPeerIds) keep.add(key(T.BgpPeer, b));
      for (const b of r.bgpNetworkIds) keep.add(key(T.BgpNetwork, b));
    }
    for (const [k, f] of this.followed) if (now - f.used < idleMs || inUse(`d:${f.id}`)) keep.add(k);
    const todo = [...keep];
    while (todo.length > 0) {
      const k = todo.pop()!;
      const o = this.objects.get(k);
      if (!o) continue;
      const type = k.slice(0, k.indexOf('/'));
      // A bridge's ports are read only when a packet needs them; once read they stay with it.
      const loadedPorts = type === T.Network ? (o as unknown as Network).portIds.filter((p) => this.followed.has(key(T.Port, p))).map((p): [string, string] => [T.Port, p]) : [];
      for (const [t, id] of [...compileDeps(type, o), ...loadedPorts]) {
        const d = key(t, id);
        if (!keep.has(d)) {
          keep.add(d);
          todo.push(d);
        }
      }
    }
    let n = 0;
    for (const [k, f] of [...this.followed]) if (!keep.has(k)) {
      this.unfollow(f);
      n++;
    }
    return n;
  }

  /** Follows a router's ARP entry for ip, learned wherever the reply arrived. */
  followArp(router: string, ip: number): void {
    this.client.subscribe({ op: 'watchState', type: T.Router, id: router, key: `arp_table/${ip}` });
  }

  /** Publishes an ARP entry this agent learned, for the other agents routing through the router. */
  publishArp(router: string, ip: number, mac: number): void {
    this.client.setState(T.Router, router, `arp_table/${ip}`, String(mac));
  }

  /**
   * A MAC learned on a local port of a bridge goes into the bridge's MAC table, as MidoNet's
   * agents share theirs: the entry is this host's session's, so it goes when the host does.
   */
  publishMac(bridge: string, mac: number, port: string): void {
    const m = macToString(mac);
    const was = this.publishedMacs.get(`${bridge}|${m}`);
    // Already there (Neutron's ports are written by the cluster): nothing to add, nothing to own.
    if (was === port || this.macTables.get(bridge)?.has(`${m}_${port}`)) return;
    if (was !== undefined) this.unpublishMac(bridge, m, was);
    this.publishedMacs.set(`${bridge}|${m}`, port);
    this.client.setState(T.Network, bridge, macTableKey(bridge, 0, m, port).key, '');
  }

  private unpublishMac(bridge: string, mac: string, port: string): void {
    this.publishedMacs.delete(`${bridge}|${mac}`);
    this.client.deleteState(T.Network, bridge, macTableKey(bridge, 0, mac, port).key);
  }

  /** A port left this host: the MACs learned on it are no longer behind it. */
  unpublishPort(port: string): void {
    for (const [k, p] of [...this.publishedMacs]) {
      if (p !== port) continue;
      const [bridge, mac] = k.split('|') as [string, string];
      this.unpublishMac(bridge, mac, port);
    }
  }

  get<X>(type: string, id: string): X | undefined {
    return (this.objects.get(key(type, id)) ?? undefined) as X | undefined;
  }

  /** The ports bound to this host, as far as they have arrived. */
  boundPorts(): Port[] {
    const host = this.get<Host>(T.Host, this.hostId);
    const out: Port[] = [];
    for (const id of host?.portIds ?? []) {
      const p = this.get<Port>(T.Port, id);
      if (p && p.hostId === this.hostId) out.push(p);
    }
    return out;
  }

  /** The tunnel zones this host is a member of. */
  tunnelZones(): TunnelZone[] {
    const host = this.get<Host>(T.Host, this.hostId);
    return (host?.tunnelZoneIds ?? []).map((id) => this.get<TunnelZone>(T.TunnelZone, id)).filter((z): z is TunnelZone => z !== undefined);
  }

  /** Objects held now. */
  get size(): number {
    let n = 0;
    for (const v of this.objects.values()) if (v) n++;
    return n;
  }
}
