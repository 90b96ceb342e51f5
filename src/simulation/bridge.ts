import { BROADCAST_MAC, isMulticastMac } from '../packets/bytes.ts';
import { ARP_REQUEST, ETH_ARP } from '../packets/types.ts';
import { filter, Verdict } from './chain.ts';
import type { PacketContext } from './context.ts';
import { dhcpReply } from './dhcp.ts';
import { F } from './flow-match.ts';
import { consume, drop, type Outcome, type Output } from './outcome.ts';
import { portEgress } from './port.ts';
import { rejectReply } from './reject.ts';
import { arpReply } from './replies.ts';
import type { SimBridge, SimPort } from './topology.ts';

/** Flow tag of a bridge's MAC entry: flows to (or flooding for) that MAC go when it moves. */
export const macTagOf = (bridge: string, vlan: number, mac: number) => `mac:${bridge}:${vlan}:${mac}`;

/** macTagOf, made once per (vlan, mac) and kept on the compiled bridge. */
function macTag(b: SimBridge, vlan: number, mac: number): string {
  let v = b.macTags.get(vlan);
  if (!v) b.macTags.set(vlan, (v = new Map()));
  let t = v.get(mac);
  if (t === undefined) v.set(mac, (t = macTagOf(b.id, vlan, mac)));
  return t;
}

/**
 * A DHCP request (UDP 68 -> 67) entering a bridge's exterior port, answered from the bridge's DHCP
 * subnets before any chain sees it, as MidoNet's packet workflow does (the port's anti-spoofing
 * rules would drop a client that has no address yet); null when the bridge serves no answer.
 */
export function answerDhcp(ctx: PacketContext, inPort: SimPort): Outcome | null {
  const m = ctx.match;
  if (inPort.kind !== 'bridge' || inPort.peerId || m.etherType !== 0x0800 || m.ipProto !== 17 || m.dstPort !== 67 || m.srcPort !== 68) return null;
  ctx.seen |= F.EtherType | F.IpProto | F.SrcPort | F.DstPort;
  const b = ctx.topology.bridge(inPort.deviceId);
  const reply = dhcpReply(ctx, b);
  if (reply === 'ignored') return consume('DHCP message needing no answer');
  if (!reply) return null;
  ctx.generated.push({ egressPort: inPort.id, frame: reply });
  ctx.log('bridge', b.id, 'DHCP answered', b.name);
  return consume('DHCP answered by the bridge');
}

/**
 * MidoNet's bridge: learns source MACs per VLAN, answers ARP for addresses it knows (its linked
 * router ports and its ARP table), sends unicast to the known port and floods the rest to its
 * exterior ports.
 */
export function processBridge(ctx: PacketContext, inPort: SimPort): Outcome {
  const b = ctx.topology.bridge(inPort.deviceId);
  ctx.enterDevice(b);
  const m = ctx.match;
  ctx.seen |= F.EthSrc | F.EthDst | F.Vlan | F.EtherType;
  if (!b.adminUp) {
    ctx.log('bridge', b.id, 'down: drop', b.name);
    return drop('bridge is down');
  }
  if (isMulticastMac(m.ethSrc)) return drop('multicast source MAC');
  const vlan = m.vlan === -1 ? 0 : m.vlan;

  if (m.vlan === -1) {
    const v = filter(ctx, b.inFilter);
    if (v !== Verdict.Accept) return rejectReply(ctx, v, 'bridge inbound chain');
  }

  const learned = ctx.state.macs.learn(b.id, vlan, m.ethSrc, inPort.id, ctx.now, ctx.now + ctx.state.config.macExpiryMs);
  if (learned !== 'same') {
    if (learned === 'moved') ctx.state.count('mac_moves');
    ctx.state.events.macLearned?.(b.id, vlan, m.ethSrc, inPort.id);
  }

  if (m.etherType === ETH_ARP && m.arpOp === ARP_REQUEST) {
    ctx.seen |= F.ArpOp | F.IpDst;
    // Router ports are always answered for; the ARP table only when bridge ARP is on (MidoNet's flag).
    const mac = (ctx.state.config.bridgeArp ? b.arpTable.get(m.ipDst) : undefined) ?? b.routerIpToMac.get(m.ipDst);
    if (mac !== undefined) {
      ctx.generated.push({ egressPort: inPort.id, frame: arpReply({ mac: m.ethSrc, ip: m.ipSrc }, { mac, ip: m.ipDst }) });
      ctx.log('arp', b.id, 'ARP request answered by the bridge', b.name);
      return consume('ARP answered by the bridge');
    }
  }

  let targets: string[];
  if (m.ethDst === BROADCAST_MAC || isMulticastMac(m.ethDst)) {
    targets = b.exteriorPorts.filter((p) => p !== inPort.id);
    if (ctx.trace) ctx.log('bridge', b.id, `flood ${targets.length} ports`, b.name);
  } else {
    ctx.tag(macTag(b, vlan, m.ethDst));
    const known = b.staticMac(vlan, m.ethDst) ?? b.routerPortByMac.get(m.ethDst) ?? ctx.state.macs.lookup(b.id, vlan, m.ethDst, ctx.now);
    if (known === inPort.id) {
      ctx.log('bridge', b.id, 'destination is behind the ingress port: drop', b.name);
      return drop('destination MAC is on the ingress port');
    }
    if (known) {
      targets = [known];
      if (ctx.trace) ctx.log('bridge', b.id, `to port ${known}`, b.name);
    } else {
      targets = b.exteriorPorts.filter((p) => p !== inPort.id);
      if (ctx.trace) ctx.log('bridge', b.id, `unknown MAC: flood ${targets.length} ports`, b.name);
    }
  }

  const v = filter(ctx, b.outFilter);
  if (v !== Verdict.Accept) return rejectReply(ctx, v, 'bridge outbound chain');
  return fork(ctx, targets);
}

/** Sends the packet out of several ports, each branch from the same headers. */
export function fork(ctx: PacketContext, ports: string[]): Outcome {
  if (ports.length === 0) return drop('no port to send to');
  if (ports.length === 1) return portEgress(ctx, ports[0]!);
  const outputs: Output[] = [];
  const start = ctx.match.clone();
  const depth = ctx.devicesTraversed;
  let last: Outcome = drop('no port to send to');
  for (const p of ports) {
    ctx.match.copyFrom(start);
    ctx.devicesTraversed = depth;
    const o = portEgress(ctx, p);
    if (o.kind === 'out') outputs.push(...o.outputs);
    else last = o;
  }
  return outputs.length > 0 ? { kind: 'out', outputs } : last;
}
