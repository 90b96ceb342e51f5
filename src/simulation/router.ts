import { BROADCAST_MAC } from '../packets/bytes.ts';
import {
  ARP_REPLY,
  ARP_REQUEST,
  ETH_ARP,
  ICMP_ECHO_REQUEST,
  ICMP_TIME_EXCEEDED,
  ICMP_UNREACH,
  UNREACH_FILTER_PROHIBITED,
  UNREACH_HOST,
  UNREACH_NET,
} from '../packets/types.ts';
import { intToIp } from '../model/net.ts';
import { filter, Verdict } from './chain.ts';
import type { PacketContext } from './context.ts';
import { F } from './flow-match.ts';
import { consume, drop, type Outcome } from './outcome.ts';
import { portEgress } from './port.ts';
import { rejectReply } from './reject.ts';
import { arpReply, arpRequest, icmpEchoReply, icmpError } from './replies.ts';
import type { SimPort, SimRouter } from './topology.ts';

export const arpTag = (router: string, ip: number) => `arp:${router}:${ip}`;

/** The router port's address used as the source of what the router itself sends from it. */
const portIp = (p: SimPort) => p.addrs[0]?.ip ?? 0;

function icmpBack(ctx: PacketContext, inPort: SimPort, type: number, code: number): void {
  const reply = icmpError(ctx, { mac: inPort.mac, ip: portIp(inPort) }, type, code);
  if (reply) ctx.generated.push({ egressPort: inPort.id, frame: reply });
}

function handleArp(ctx: PacketContext, r: SimRouter, inPort: SimPort): Outcome {
  const m = ctx.match;
  ctx.seen |= F.ArpOp | F.IpSrc | F.IpDst;
  if (m.arpOp === ARP_REQUEST && inPort.addrs.some((a) => a.ip === m.ipDst)) {
    ctx.generated.push({ egressPort: inPort.id, frame: arpReply({ mac: m.ethSrc, ip: m.ipSrc }, { mac: inPort.mac, ip: m.ipDst }) });
    if (ctx.trace) ctx.log('arp', r.id, `ARP request for ${intToIp(m.ipDst)}: replied`, r.name);
    return consume('ARP request for a router port answered');
  }
  if (m.arpOp === ARP_REPLY || (m.arpOp === ARP_REQUEST && m.ipSrc === m.ipDst)) {
    ctx.state.arp.learn(r.id, m.ipSrc, m.ethSrc, ctx.now);
    if (ctx.trace) ctx.log('arp', r.id, `learned ${intToIp(m.ipSrc)}`, r.name);
    return consume('ARP reply learned by the router');
  }
  return drop('ARP not for this router');
}

/**
 * MidoNet's router: its own MAC only, ARP for its ports, pre-routing chains, longest-prefix
 * routing (weights, ECMP), TTL, post-routing chains, next-hop MAC from the peer port or the ARP
 * cache (parking the packet while it asks), then out with the port's MAC as source.
 */
export function processRouter(ctx: PacketContext, inPort: SimPort): Outcome {
  const r = ctx.topology.router(inPort.deviceId);
  ctx.enterDevice(r);
  const m = ctx.match;
  ctx.seen |= F.EthDst | F.EtherType;
  ctx.log('router', r.id, r.adminUp ? 'ingress' : 'down: drop', r.name);
  if (!r.adminUp) {
    return drop('router is down');
  }
  if (m.ethDst !== inPort.mac && m.ethDst !== BROADCAST_MAC) return drop('destination MAC is not the router port');
  if (m.etherType === ETH_ARP) return handleArp(ctx, r, inPort);
  if (m.etherType !== 0x0800) return drop('router drops non-IPv4');

  for (const c of r.inFilters) {
    const v = filter(ctx, c);
    if (v !== Verdict.Accept) return rejectReply(ctx, v, 'router inbound chain');
  }

  const route = r.table.lookup(m, ctx);
  if (!route) {
    if (ctx.trace) ctx.log('route', r.id, `no route to ${intToIp(m.ipDst)}: ICMP net unreachable`, r.name);
    icmpBack(ctx, inPort, ICMP_UNREACH, UNREACH_NET);
    return drop('no route');
  }
  if (ctx.trace) ctx.log('route', route.id, `${route.kind} ${intToIp(route.dst)}/${route.dstLen}${route.portId ? ` via port ${route.portId}` : ''}`, r.name);
  switch (route.kind) {
    case 'BlackHole':
      return drop('blackhole route');
    case 'Reject':
      icmpBack(ctx, inPort, ICMP_UNREACH, UNREACH_FILTER_PROHIBITED);
      return drop('reject route');
    case 'Local':
      ctx.seen |= F.IpProto | F.SrcPort;
      if (m.ipProto === 1 && m.srcPort === ICMP_ECHO_REQUEST && r.ownAddrs.has(m.ipDst)) {
        const reply = icmpEchoReply(ctx, { mac: inPort.mac, ip: m.ipDst });
        if (reply) ctx.generated.push({ egressPort: inPort.id, frame: reply });
        ctx.log('router', r.id, 'ICMP echo to the router: replied', r.name);
        return consume('ICMP echo answered by the router');
      }
      return consume('addressed to the router');
    case 'Fip64':
      return drop('FIP64 routes need the NAT64 datapath');
  }
  if (!route.portId) return drop('route without a next-hop port');

  ctx.seen |= F.IpTtl;
  if (m.ipTtl <= 1) {
    ctx.log('router', r.id, 'TTL expired: ICMP time exceeded', r.name);
    icmpBack(ctx, inPort, ICMP_TIME_EXCEEDED, 0);
    return drop('TTL expired');
  }
  m.ipTtl--;

  const outPort = ctx.topology.port(route.portId);
  ctx.outPortId = outPort.id;
  ctx.outPortGroups = outPort.portGroups;
  for (const c of r.outFilters) {
    const v = filter(ctx, c);
    if (v !== Verdict.Accept) return rejectReply(ctx, v, 'router outbound chain');
  }

  const nextHop = route.gateway || m.ipDst;
  let mac: number | null = null;
  const peer = outPort.peerId ? ctx.topology.port(outPort.peerId) : null;
  if (peer?.kind === 'router') mac = peer.mac;
  else {
    ctx.tag(arpTag(r.id, nextHop));
    mac = ctx.state.arp.lookup(r.id, nextHop, ctx.now);
  }
  if (mac === null) {
    const what = ctx.state.arp.shouldRequest(r.id, nextHop, ctx.now);
    if (what === 'give-up') {
      icmpBack(ctx, inPort, ICMP_UNREACH, UNREACH_HOST);
      return drop(`no ARP reply from ${intToIp(nextHop)}`);
    }
    if (what === 'send') ctx.generated.push({ egressPort: outPort.id, frame: arpRequest({ mac: outPort.mac, ip: portIp(outPort) }, nextHop) });
    if (ctx.trace) ctx.log('arp', r.id, `waiting for the MAC of ${intToIp(nextHop)}`, r.name);
    return { kind: 'parked', router: r.id, ip: nextHop };
  }
  m.ethSrc = outPort.mac;
  m.ethDst = mac;
  return portEgress(ctx, outPort.id);
}
