import type { Ethernet } from '../packets/types.ts';
import { NotYet, PacketContext, type GeneratedPacket, type TraceStep } from './context.ts';
import { diff, F, type FlowMatch, type Rewrites } from './flow-match.ts';
import type { Outcome } from './outcome.ts';
import { portEgress, portIngress } from './port.ts';
import type { SimState } from './state.ts';
import { DeviceMissing, type Topology } from './topology.ts';

export interface SimResult {
  action: 'forward' | 'drop' | 'consume' | 'parked' | 'notYet';
  /** Exterior ports the packet leaves by, each with the header rewrites to apply. */
  outputs: { portId: string; rewrites: Rewrites; match: FlowMatch }[];
  reason: string;
  /** The match as it arrived and the bitmask (F) of the fields the simulation read. */
  match: FlowMatch;
  seen: number;
  /** Devices, chains, MAC/ARP entries and state keys used: a change to any invalidates the flow. */
  tags: string[];
  generated: GeneratedPacket[];
  /** Conntrack and NAT keys written, to push to the hosts that may see the reply. */
  stateKeys: string[];
  trace: TraceStep[] | null;
  missing?: { type: string; id: string };
  parkedOn?: { router: string; ip: number };
}

export interface SimOptions {
  now: number;
  trace?: boolean;
}

function finish(ctx: PacketContext, o: Outcome): SimResult {
  const result: SimResult = {
    action: o.kind === 'out' ? 'forward' : o.kind,
    outputs: [],
    reason: '',
    match: ctx.orig,
    seen: ctx.seen | F.InPort,
    tags: ctx.tags,
    generated: ctx.generated,
    stateKeys: ctx.stateKeys,
    trace: ctx.trace,
  };
  if (o.kind === 'out') {
    for (const x of o.outputs) result.outputs.push({ portId: x.portId, match: x.match, rewrites: diff(ctx.orig, x.match) });
    result.reason = 'forwarded';
  } else if (o.kind === 'parked') {
    result.reason = 'waiting for ARP';
    result.parkedOn = { router: o.router, ip: o.ip };
  } else {
    result.reason = o.reason;
  }
  const verdict = o.kind === 'out' ? `forward to ${o.outputs.length} port(s)` : `${result.action}: ${result.reason}`;
  ctx.trace?.push({ device: '', kind: 'result', id: '', verdict });
  return result;
}

function run(ctx: PacketContext, step: () => Outcome): SimResult {
  try {
    return finish(ctx, step());
  } catch (err) {
    if (err instanceof NotYet) {
      return { ...finish(ctx, { kind: 'drop', reason: err.message }), action: 'notYet', missing: { type: err.type, id: err.id } };
    }
    if (err instanceof DeviceMissing) {
      ctx.state.count('missing_device_drops');
      return finish(ctx, { kind: 'drop', reason: err.message });
    }
    // A bug must cost one packet, never the agent.
    ctx.state.count('simulation_errors');
    return finish(ctx, { kind: 'drop', reason: `simulation error: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/**
 * Simulates one packet arriving on a port through the whole virtual topology. Pure apart from
 * the state tables: no I/O, no clock but `opts.now`. The agent and the trace tool both call this.
 */
export function simulate(topology: Topology, state: SimState, match: FlowMatch, frame: Ethernet | null, opts: SimOptions): SimResult {
  const ctx = new PacketContext(topology, state, opts.now, match, frame, false, opts.trace ?? false);
  return run(ctx, () => {
    ctx.ingressDevice = topology.port(match.inPort).deviceId;
    return portIngress(ctx, match.inPort);
  });
}

/** A packet a device made (ARP, ICMP, DHCP), starting at the egress of the port it leaves by. */
export function simulateGenerated(topology: Topology, state: SimState, egressPort: string, match: FlowMatch, frame: Ethernet | null, opts: SimOptions): SimResult {
  const ctx = new PacketContext(topology, state, opts.now, match, frame, true, opts.trace ?? false);
  return run(ctx, () => {
    ctx.ingressDevice = topology.port(egressPort).deviceId;
    return portEgress(ctx, egressPort);
  });
}
