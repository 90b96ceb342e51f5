import { filter, Verdict } from './chain.ts';
import { conntrackKey, type PacketContext } from './context.ts';
import { answerDhcp, processBridge } from './bridge.ts';
import { drop, type Outcome } from './outcome.ts';
import { rejectReply } from './reject.ts';
import { processRouter } from './router.ts';

/** MidoNet's loop guard: a packet may cross at most this many devices. */
export const MAX_DEVICES = 12;

/** A packet entering a port: admin state, the port's inbound chain, then its device. */
export function portIngress(ctx: PacketContext, portId: string): Outcome {
  const port = ctx.topology.port(portId);
  ctx.tag(port.tag);
  ctx.traversed.push(port.id);
  if (++ctx.devicesTraversed > MAX_DEVICES) {
    ctx.state.count('loop_drops');
    return drop(`crossed more than ${MAX_DEVICES} devices (loop?)`);
  }
  ctx.currentInPort = port.id;
  ctx.inPortGroups = port.portGroups;
  ctx.log('port', port.id, port.adminUp ? 'ingress' : 'ingress: port down, drop');
  if (!port.adminUp) return drop('ingress port is down');
  ctx.currentDevice = port.deviceId;
  const dhcp = answerDhcp(ctx, port);
  if (dhcp) return dhcp;
  const v = filter(ctx, port.inFilter);
  if (v !== Verdict.Accept) return rejectReply(ctx, v, 'port inbound chain');
  if (port.kind === 'bridge') return processBridge(ctx, port);
  if (port.kind === 'router') return processRouter(ctx, port);
  return drop('VXLAN ports lead to hardware VTEPs, not simulated');
}

/**
 * A packet leaving through a port: the port's outbound chain, then either the linked peer port
 * (interior) or out of the virtual topology (exterior).
 */
export function portEgress(ctx: PacketContext, portId: string): Outcome {
  const port = ctx.topology.port(portId);
  ctx.tag(port.tag);
  if (!port.adminUp) {
    ctx.log('port', port.id, 'egress: port down, drop');
    return drop('egress port is down');
  }
  ctx.outPortId = port.id;
  ctx.outPortGroups = port.portGroups;
  const v = filter(ctx, port.outFilter);
  if (v !== Verdict.Accept) return rejectReply(ctx, v, 'port outbound chain');
  if (port.peerId) {
    if (ctx.trace) ctx.log('port', port.id, `egress to peer ${port.peerId}`);
    return portIngress(ctx, port.peerId);
  }
  ctx.log('port', port.id, 'output');
  if (ctx.trackConnection && ctx.isForwardFlow()) {
    // The reply will enter through this port's device with the 5-tuple reversed.
    const m = ctx.match;
    const key = conntrackKey(ctx.state.deviceToken(port.deviceId), m.ipProto, m.ipDst, m.tpKeyDst, m.ipSrc, m.tpKeySrc);
    ctx.state.conntrack.set(key, {}, ctx.now + ctx.state.config.stateKeyTtlMs);
    ctx.stateKeys.push(key);
  }
  return { kind: 'out', outputs: [{ portId: port.id, match: ctx.match.clone() }] };
}
