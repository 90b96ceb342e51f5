import { buildEthernet, parseEthernet } from '../packets/ethernet.ts';
import type { Ethernet } from '../packets/types.ts';
import { log, rateLimited } from '../conf/log.ts';
import { macTagOf } from '../simulation/bridge.ts';
import { NotYet } from '../simulation/context.ts';
import { matchOf } from '../simulation/packet-match.ts';
import { arpTag } from '../simulation/router.ts';
import { simulate, simulateGenerated, type SimResult } from '../simulation/simulator.ts';
import { DEFAULT_SIM_CONFIG, SimState, type NatBlockAllocator, type SimConfig } from '../simulation/state.ts';
import type { Rewrites } from '../simulation/flow-match.ts';
import type { Datapath } from './datapath/datapath.ts';
import { FlowTable, type Flow } from './flow-table.ts';
import type { KernelFlows } from './kernel-flows.ts';
import { RawHeaderCache } from './raw-header-cache.ts';
import { exportState, FLOW_STATE_VNI, importState, type StateEntry } from './flow-state.ts';
import { decodeMultiPort, encodeMultiPort, MULTI_PORT_VNI } from './multi-port.ts';
import { applyRewrites, isEmpty } from './rewrite.ts';
import type { TopologyCache } from './topology-cache.ts';

/** Where a port lives from this host's point of view. */
export interface PortLocator {
  /** The local datapath port, if the port is bound and active here. */
  isLocal(portId: string): boolean;
  /** How to reach the port on another host (peer tunnel address, key, encapsulation), or null. */
  remote(portId: string): { peer: string; vni: number; encap: 'vxlan' | 'gre' } | null;
  /** The local port with this tunnel key. */
  byTunnelKey(key: number): string | null;
  /** Whether an underlay address is a host sharing a tunnel zone with this one (the only ones whose tunnels count). */
  isPeer(address: string): boolean;
}

export interface WorkflowOptions {
  flowIdleMs: number;
  flowHardMs: number;
  maxFlows: number;
  tunnelPort: number;
  sim?: SimConfig;
  /** Who leases NAT port blocks (cluster-wide in an agent). */
  natBlocks?: NatBlockAllocator;
  /** Told how long each simulation took (seconds). */
  observe?: (seconds: number) => void;
}

/** Drops are normal (a rule said so); what they were for is logged once in a while per reason. */
const dropped = rateLimited(log('workflow'), 'info');

const MAX_PARKED = 32;
/** Packets waiting for topology at once, and how long one may wait before it is dropped. */
const MAX_WAITING = 4096;
const WAIT_MS = 5_000;

/** The bytes for one output: the frame as it came when nothing changes, else rebuilt. */
function bytesFor(frame: Ethernet, original: Uint8Array | null, r: Rewrites): Uint8Array {
  return original && isEmpty(r) ? original : buildEthernet(applyRewrites(frame, r));
}

/**
 * What happens to each packet: a flow hit is executed at once; a miss is simulated (the whole
 * virtual topology, at this host), the result installed as a wildcard flow and executed;
 * packets the simulation makes are simulated in turn. Frames that fail to parse are counted and
 * dropped. Tunnelled frames go straight to the port their VNI names.
 */
export class PacketWorkflow {
  readonly state: SimState;
  readonly flows: FlowTable;
  private readonly raw: RawHeaderCache;
  readonly counters = {
    malformed: 0, simulations: 0, flowHits: 0, dropped: 0, tunnelUnknownKey: 0, parked: 0, generated: 0, stateSent: 0, stateReceived: 0,
    stateMalformed: 0, multiPortTx: 0, waitedForTopology: 0, topologyTimeouts: 0, tunnelForeign: 0,
  };
  /** The kernel fast path, when in use: flows the raw-header cache takes are offered to it. */
  private kernel: KernelFlows | null = null;
  private readonly parked = new Map<string, { port: string; bytes: Uint8Array }[]>();
  /** Packets waiting for a device to arrive (NotYet), by the device's type/id. */
  private readonly waiting = new Map<string, { again: (now: number) => void; since: number }[]>();
  private waitingCount = 0;
  private readonly arpReleased: { port: string; bytes: Uint8Array }[] = [];
  private importingArp = false;

  constructor(
    private readonly cache: TopologyCache,
    private readonly dp: Datapath,
    private readonly where: PortLocator,
    private readonly opts: WorkflowOptions,
  ) {
    // A copy of its own: mn-conf changes are applied to it while the agent runs.
    this.state = new SimState({ ...(opts.sim ?? DEFAULT_SIM_CONFIG) }, opts.natBlocks);
    this.flows = new FlowTable(opts.maxFlows);
    this.flows.onRemove = (f) => this.kernel?.removed(f);
    this.flows.usedElsewhere = (f) => this.kernel?.lastUsed(f) ?? null;
    this.raw = new RawHeaderCache(opts.maxFlows);
    this.state.events.macLearned = (bridge, vlan, mac, port) => {
      this.flows.invalidate(macTagOf(bridge, vlan, mac));
      // Other hosts send to this MAC straight away instead of flooding every port of the bridge.
      if (vlan === 0 && this.where.isLocal(port)) this.cache.publishMac(bridge, mac, port);
    };
    this.state.events.arpLearned = (router, ip) => {
      this.flows.invalidate(arpTag(router, ip));
      // Learned here from a reply: share it; learned from the cluster: it is shared already.
      if (!this.importingArp) {
        const mac = this.state.arp.lookup(router, ip, Date.now());
        if (mac !== null) this.cache.publishArp(router, ip, mac);
      }
      const waiting = this.parked.get(`${router}|${ip}`);
      if (waiting) {
        this.parked.delete(`${router}|${ip}`);
        this.arpReleased.push(...waiting);
      }
    };
  }

  /** A frame from a bound port. */
  onFrame(portId: string, bytes: Uint8Array, now = Date.now()): void {
    const key = this.raw.key(portId, bytes);
    if (key !== null) {
      const known = this.raw.get(key);
      if (known !== undefined) {
        if (this.flows.touch(known.flow, now)) {
          this.counters.flowHits++;
          this.kernel?.offer(key, portId, bytes, known.flow);
          this.deliver(known.flow.actions.outputs[0]!.portId, this.raw.apply(known, bytes));
          return;
        }
        this.raw.forget(key);
      }
    }
    const parsed = parseEthernet(bytes);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    const match = matchOf(parsed.value, portId);
    const flow = this.flows.lookup(match, now);
    if (flow) {
      this.counters.flowHits++;
      // The kernel gets a 5-tuple on its third frame (a raw-cache hit) when the raw cache takes its
      // flow, so one- and two-packet exchanges never cost a map update; NAT and drops on the second.
      if (key !== null && !this.raw.remember(key, flow)) this.kernel?.offer(key, portId, bytes, flow);
      this.execute(flow.actions.outputs, parsed.value, bytes);
      return;
    }
    this.counters.simulations++;
    const t0 = performance.now();
    const res = simulate(this.cache.topology, this.state, match, parsed.value, { now });
    this.opts.observe?.((performance.now() - t0) / 1000);
    this.afterSimulation(res, portId, parsed.value, bytes, now);
  }

  private afterSimulation(res: SimResult, portId: string, frame: Ethernet, bytes: Uint8Array, now: number): void {
    if (res.action === 'notYet') {
      const copy = bytes.slice();
      this.waitFor(res, now, (t) => this.onFrame(portId, copy, t));
      return;
    }
    if (res.action === 'parked') {
      const key = `${res.parkedOn!.router}|${res.parkedOn!.ip}`;
      // The reply may reach another host first (it goes where its port is bound): follow the
      // router's shared ARP table too.
      this.cache.followArp(res.parkedOn!.router, res.parkedOn!.ip);
      const q = this.parked.get(key) ?? [];
      if (q.length < MAX_PARKED) q.push({ port: portId, bytes: bytes.slice() });
      this.parked.set(key, q);
      this.counters.parked++;
      // Parked before the ARP request goes: a bridge that knows the address answers it at once,
      // and the packet must already be waiting for that answer.
      for (const g of res.generated) this.emitGenerated(g.egressPort, g.frame, now);
      return;
    }
    for (const g of res.generated) this.emitGenerated(g.egressPort, g.frame, now);
    if (res.action === 'forward' || res.action === 'drop') {
      // Consumed packets (ARP, DHCP, pings to routers) are answered every time: no flow.
      if (res.generated.length === 0) this.install(res, now);
    }
    if (res.action === 'forward') {
      this.pushState(res, now);
      this.execute(res.outputs, frame, bytes);
    } else {
      this.counters.dropped++;
      if (res.action === 'drop') dropped(res.reason, { port: portId, reason: res.reason }, 'packets dropped');
    }
  }

  /**
   * Sends the conntrack and NAT keys this packet created to the hosts its outputs go to, and to
   * the hosts of the other ports in their stateful port groups (a gateway's uplinks: the reply may
   * come back through any of them), before the packet itself, so the reply finds them wherever it
   * enters.
   */
  private pushState(res: SimResult, now: number): void {
    if (res.stateKeys.length === 0) return;
    const peers = new Map<string, 'vxlan' | 'gre'>();
    const topo = this.cache.topology;
    const reach = (portId: string) => {
      if (this.where.isLocal(portId)) return;
      const r = this.where.remote(portId);
      if (r) peers.set(r.peer, r.encap);
    };
    for (const o of res.outputs) {
      reach(o.portId);
      try {
        for (const g of topo.port(o.portId).portGroups) {
          const group = topo.portGroup(g);
          if (group.stateful) for (const member of group.ports) if (member !== o.portId) reach(member);
        }
      } catch (err) {
        // A group still loading: its hosts get the state with the next packet of the flow.
        if (!(err instanceof NotYet)) throw err;
      }
    }
    if (peers.size === 0) return;
    const entries = exportState(this.state, res.stateKeys, now);
    if (entries.length === 0) return;
    const msg = Buffer.from(JSON.stringify(entries));
    for (const [peer, encap] of peers) {
      this.dp.tunnel(peer, this.opts.tunnelPort, FLOW_STATE_VNI, msg, encap);
      this.counters.stateSent += entries.length;
    }
  }

  private install(res: SimResult, now: number): void {
    const stateful = res.stateKeys.length > 0;
    const flow: Flow = {
      mask: res.seen,
      match: res.match,
      actions: { outputs: res.outputs.map((o) => ({ portId: o.portId, rewrites: o.rewrites })) },
      tags: res.tags,
      created: now,
      lastUsed: now,
      // Drops are re-checked soon; stateful flows go before the 60 s of their state keys.
      idleMs: res.action === 'drop' ? 5_000 : stateful ? Math.min(this.opts.flowIdleMs, 30_000) : this.opts.flowIdleMs,
      hardMs: this.opts.flowHardMs,
      packets: 1,
    };
    this.flows.install(flow);
  }

  /**
   * Keeps a packet the simulation could not finish for lack of a device: the cache is fetching
   * it, and the packet goes again when it arrives (MidoNet's NotYetException).
   */
  private waitFor(res: SimResult, now: number, again: (now: number) => void): void {
    const k = `${res.missing!.type}/${res.missing!.id}`;
    const q = this.waiting.get(k) ?? [];
    if (this.waitingCount < MAX_WAITING && q.length < MAX_PARKED) {
      q.push({ again, since: now });
      this.waiting.set(k, q);
      this.waitingCount++;
      this.counters.waitedForTopology++;
    } else this.counters.dropped++;
  }

  /**
   * A packet the simulation made, simulated from its egress port. Replies to it (a bridge answering
   * a router's ARP request) go one level further, and like it they wait for devices not loaded
   * yet: a lost answer would leave the packets parked on it until the ARP retry.
   */
  private emitGenerated(egressPort: string, frame: Ethernet, now: number, depth = 0): void {
    this.counters.generated++;
    const res = simulateGenerated(this.cache.topology, this.state, egressPort, matchOf(frame, egressPort), frame, { now });
    if (res.action === 'notYet') {
      this.waitFor(res, now, (t) => this.emitGenerated(egressPort, frame, t, depth));
      return;
    }
    if (depth === 0) for (const g of res.generated) this.emitGenerated(g.egressPort, g.frame, now, 1);
    if (res.action === 'forward') this.execute(res.outputs, frame, null);
  }

  /**
   * Sends the frame out of each output, rewritten: to local ports directly; to other hosts over
   * the tunnel, once per host when several of its ports get the same bytes (a flood), with the
   * list of ports for the receiver to fan out to.
   */
  private execute(outputs: readonly { portId: string; rewrites: Rewrites }[], frame: Ethernet, original: Uint8Array | null): void {
    if (outputs.length === 1) {
      this.deliver(outputs[0]!.portId, bytesFor(frame, original, outputs[0]!.rewrites));
      return;
    }
    const remote = new Map<string, { peer: string; encap: 'vxlan' | 'gre'; keys: number[]; bytes: Uint8Array }>();
    for (const o of outputs) {
      if (this.where.isLocal(o.portId)) {
        this.dp.output(o.portId, bytesFor(frame, original, o.rewrites));
        continue;
      }
      const r = this.where.remote(o.portId);
      if (!r) {
        this.counters.dropped++;
        continue;
      }
      const group = `${r.peer}|${JSON.stringify(o.rewrites)}`;
      const g = remote.get(group);
      if (g) g.keys.push(r.vni);
      else remote.set(group, { peer: r.peer, encap: r.encap, keys: [r.vni], bytes: bytesFor(frame, original, o.rewrites) });
    }
    for (const g of remote.values()) {
      if (g.keys.length === 1) this.dp.tunnel(g.peer, this.opts.tunnelPort, g.keys[0]!, g.bytes, g.encap);
      else {
        this.dp.tunnel(g.peer, this.opts.tunnelPort, MULTI_PORT_VNI, encodeMultiPort(g.keys, g.bytes), g.encap);
        this.counters.multiPortTx++;
      }
    }
  }

  private deliver(portId: string, bytes: Uint8Array): void {
    if (this.where.isLocal(portId)) {
      this.dp.output(portId, bytes);
      return;
    }
    const r = this.where.remote(portId);
    if (!r) {
      this.counters.dropped++;
      return;
    }
    this.dp.tunnel(r.peer, this.opts.tunnelPort, r.vni, bytes, r.encap);
  }

  /**
   * A frame from a peer host: the ingress host already simulated it; hand it to the port. Only
   * hosts sharing a tunnel zone with this one may send frames or flow state this way.
   */
  onTunnel(vni: number, inner: Uint8Array, from: string, now = Date.now()): void {
    if (!this.where.isPeer(from)) {
      this.counters.tunnelForeign++;
      return;
    }
    this.fromPeer(vni, inner, now);
  }

  private fromPeer(vni: number, inner: Uint8Array, now: number): void {
    if (vni === FLOW_STATE_VNI) {
      try {
        this.counters.stateReceived += importState(this.state, JSON.parse(Buffer.from(inner).toString('utf8')) as StateEntry[], now);
      } catch {
        this.counters.stateMalformed++;
      }
      return;
    }
    if (vni === MULTI_PORT_VNI) {
      const m = decodeMultiPort(inner);
      if (!m) this.counters.tunnelUnknownKey++;
      else for (const key of m.keys) this.fromPeer(key, m.frame, now);
      return;
    }
    const port = this.where.byTunnelKey(vni);
    if (!port || !this.where.isLocal(port)) {
      this.counters.tunnelUnknownKey++;
      return;
    }
    this.dp.output(port, inner);
  }

  /** An ARP entry another agent learned for a router. */
  importArp(router: string, ip: number, mac: number, now = Date.now()): void {
    this.importingArp = true;
    try {
      this.state.arp.learn(router, ip, mac, now);
    } finally {
      this.importingArp = false;
    }
    this.releaseParked(now);
  }

  /** The overlay's UDP port changed (agent.datapath.vxlan_overlay_udp_port): tunnels go there from now on. */
  setTunnelPort(port: number): void {
    this.opts.tunnelPort = port;
    this.kernel?.setTunnelPort(port);
  }

  /** Starts (or, with null, stops) offering flows to the kernel; the old one's entries go. */
  useKernel(kernel: KernelFlows | null): void {
    this.kernel?.clear();
    this.kernel = kernel;
  }

  /** A device arrived: the packets that waited for it go through again. */
  topologyArrived(type: string, id: string, now = Date.now()): void {
    const k = `${type}/${id}`;
    const q = this.waiting.get(k);
    if (!q) return;
    this.waiting.delete(k);
    this.waitingCount -= q.length;
    for (const p of q) p.again(now);
  }

  /** Packets released by ARP replies go through again (now with the MAC known). */
  releaseParked(now = Date.now()): void {
    while (this.arpReleased.length > 0) {
      const p = this.arpReleased.shift()!;
      this.onFrame(p.port, p.bytes, now);
    }
  }

  /** Periodic work: flow expiry, flow-state expiry, packets that waited too long for topology. */
  tick(now = Date.now()): void {
    this.kernel?.tick(now);
    this.flows.expire(now);
    this.state.sweep(now);
    for (const [k, q] of this.waiting) {
      const kept = q.filter((p) => now - p.since < WAIT_MS);
      this.counters.topologyTimeouts += q.length - kept.length;
      this.waitingCount -= q.length - kept.length;
      if (kept.length === 0) this.waiting.delete(k);
      else this.waiting.set(k, kept);
    }
  }
}
