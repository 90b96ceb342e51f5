import type { Ethernet } from '../packets/types.ts';
import { tuple } from './nat.ts';
import { F, type FlowMatch } from './flow-match.ts';
import type { SimState } from './state.ts';
import type { Topology } from './topology.ts';

/** One line of a trace: where the packet was and what happened there. */
export interface TraceStep {
  device: string;
  kind: 'port' | 'bridge' | 'router' | 'chain' | 'rule' | 'nat' | 'conntrack' | 'route' | 'arp' | 'dhcp' | 'result';
  id: string;
  name?: string | null;
  verdict: string;
}

/** A packet the simulation made (ARP reply, ICMP error, DHCP offer...), to emit from a port's egress. */
export interface GeneratedPacket {
  egressPort: string;
  frame: Ethernet;
}

/** A device or table entry the simulation did not have yet: fetch it and simulate again. */
export class NotYet extends Error {
  constructor(
    readonly type: string,
    readonly id: string,
  ) {
    super(`${type} ${id} not loaded`);
  }
}

/**
 * The state of one packet's trip through the virtual topology: the headers as they are now and
 * as they arrived, what was read, tags for invalidation, packets made on the way, and the trace.
 */
export class PacketContext {
  readonly match: FlowMatch;
  readonly orig: FlowMatch;
  seen = 0;
  readonly tags: string[] = [];
  readonly generated: GeneratedPacket[] = [];
  readonly trace: TraceStep[] | null;
  devicesTraversed = 0;
  /** The port the packet last entered (the datapath in-port is match.inPort). */
  currentInPort = '';
  inPortGroups: readonly string[] = [];
  outPortId: string | null = null;
  outPortGroups: readonly string[] = [];
  /** The device whose chains run now: NAT keys belong to it. */
  currentDevice = '';
  ingressDevice = '';
  /** Devices crossed so far (a short list: MidoNet caps it at 12). */
  readonly traversed: string[] = [];
  /** Connection-tracking state: unknown until a rule or device asks. */
  private forward: boolean | undefined;
  /** Chains being evaluated, outermost first (jump loop detection). */
  readonly chainPath: string[] = [];
  /** Flow-state keys written, for replication to peer hosts. */
  readonly stateKeys: string[] = [];
  /** Connection tracking was asked for: on output, install the return key. */
  trackConnection = false;

  constructor(
    readonly topology: Topology,
    readonly state: SimState,
    readonly now: number,
    match: FlowMatch,
    /** The parsed frame, when services (DHCP, ICMP echo) need the payload. */
    readonly frame: Ethernet | null,
    readonly generatedPacket: boolean,
    tracing: boolean,
  ) {
    this.match = match;
    this.orig = match.clone();
    this.trace = tracing ? [] : null;
  }

  get inPort(): string {
    return this.match.inPort;
  }

  tag(t: string): void {
    this.tags.push(t);
  }

  /** The packet reaches a bridge or router: it is tagged, traversed, and owns the NAT keys made now. */
  enterDevice(d: { id: string; tag: string }): void {
    this.tags.push(d.tag);
    this.traversed.push(d.id);
    this.currentDevice = d.id;
  }

  log(kind: TraceStep['kind'], id: string, verdict: string, name?: string | null, device = this.currentDevice): void {
    this.trace?.push({ device, kind, id, name, verdict });
  }

  /**
   * Whether this packet belongs to a forward flow: unless a return key for its 5-tuple was
   * left on the ingress device by an earlier forward packet (MidoNet's ConnTrackState).
   * Generated packets count as return flows.
   */
  isForwardFlow(): boolean {
    if (this.forward !== undefined) return this.forward;
    this.trackConnection = true;
    if (this.generatedPacket) return (this.forward = false);
    const m = this.orig;
    if (m.etherType !== 0x0800 || (m.ipProto !== 6 && m.ipProto !== 17 && m.ipProto !== 1)) return (this.forward = true);
    this.seen |= F.IpSrc | F.IpDst | F.IpProto | F.SrcPort | F.DstPort | F.IcmpId;
    const key = conntrackKey(this.state.deviceToken(this.ingressDevice), m.ipProto, m.ipSrc, m.tpKeySrc, m.ipDst, m.tpKeyDst);
    this.tag(key);
    const hit = this.state.conntrack.get(key, this.now);
    if (hit) hit.expires = this.now + this.state.config.stateKeyTtlMs;
    this.forward = hit === null;
    this.log('conntrack', this.ingressDevice, this.forward ? 'forward flow' : 'return flow');
    return this.forward;
  }
}

/** A conntrack key: the device's state token and the 5-tuple. */
export function conntrackKey(device: string, proto: number, src: number, sport: number, dst: number, dport: number): string {
  return `c${device}|${tuple(proto, src, sport, dst, dport)}`;
}
