import { BROADCAST_MAC, macFromString, macToString } from '../packets/bytes.ts';
import { intToIp, ipToInt, isIpv4, isMac } from '../model/net.ts';
import { ETH_ARP, ETH_IPV4, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Ethernet, type Ipv4 } from '../packets/types.ts';
import type { TraceStep } from './context.ts';
import type { Rewrites } from './flow-match.ts';
import { matchOf } from './packet-match.ts';
import { simulate, type SimResult } from './simulator.ts';
import type { SimState } from './state.ts';
import type { Topology } from './topology.ts';

/** A packet to trace, as an operator describes it; what is left out is filled in (like ovn-trace). */
export interface PacketDescription {
  inPort: string;
  ethSrc?: string;
  ethDst?: string;
  vlan?: number;
  srcIp?: string;
  dstIp?: string;
  /** tcp, udp, icmp, arp, or an IP protocol number. */
  proto?: string | number;
  srcPort?: number;
  dstPort?: number;
  ttl?: number;
  /** Comma-separated: syn, ack, fin, rst, psh (default syn). */
  tcpFlags?: string;
  icmpType?: number;
  icmpCode?: number;
  fragment?: 'none' | 'first' | 'later';
}

export class TraceInputError extends Error {}

const FLAG_BITS: Record<string, number> = { syn: TCP_SYN, ack: TCP_ACK, fin: TCP_FIN, rst: TCP_RST, psh: TCP_PSH };

/** A stable, locally administered MAC for a port that has none (bridge ports carry no MAC). */
function macForPort(portId: string): number {
  const hex = portId.replace(/-/g, '').slice(-10);
  return 0x020000000000 + parseInt(hex, 16);
}

/**
 * Fills in the Ethernet addresses the way the packet would really look: the source is the port's
 * own (router port) or a stable MAC; the destination is the router port MAC when leaving a router
 * port, the known MAC of the destination on its bridge, the gateway's for off-subnet traffic,
 * and broadcast otherwise.
 */
function defaults(d: PacketDescription, topo: Topology): { src: number; dst: number } {
  const port = topo.port(d.inPort);
  const pick = (given: string | undefined, fallback: () => number) => {
    if (given === undefined) return fallback();
    if (!isMac(given)) throw new TraceInputError(`${given} is not a MAC address`);
    return macFromString(given);
  };
  if (port.kind === 'router') {
    return { src: pick(d.ethSrc, () => macForPort(d.inPort)), dst: pick(d.ethDst, () => port.mac) };
  }
  const bridge = topo.bridge(port.deviceId);
  const dstIp = d.dstIp ? ipToInt(d.dstIp) : null;
  const srcIp = d.srcIp ? ipToInt(d.srcIp) : null;
  return {
    src: pick(d.ethSrc, () => macForPort(d.inPort)),
    dst: pick(d.ethDst, () => {
      if (dstIp === null || d.proto === 'arp') return BROADCAST_MAC;
      const known = bridge.arpTable.get(dstIp) ?? bridge.routerIpToMac.get(dstIp);
      if (known !== undefined) return known;
      // Off-subnet: the router port on this bridge whose subnet holds the source.
      for (const [ip, mac] of bridge.routerIpToMac) {
        const rp = topo.port(bridge.routerPortByMac.get(mac) ?? '');
        const peer = rp.peerId ? topo.port(rp.peerId) : null;
        const subnet = peer?.addrs.find((a) => a.ip === ip);
        if (subnet && srcIp !== null && subnet.len > 0 && (srcIp >>> (32 - subnet.len)) === (ip >>> (32 - subnet.len))) return mac;
      }
      return BROADCAST_MAC;
    }),
  };
}

function need(ip: string | undefined, what: string): number {
  if (!ip) throw new TraceInputError(`${what} is required`);
  if (!isIpv4(ip)) throw new TraceInputError(`${what} ${ip} is not an IPv4 address`);
  return ipToInt(ip);
}

const inRange = (v: number | undefined, max: number, what: string, def: number) => {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new TraceInputError(`${what} must be an integer from 0 to ${max}`);
  return v;
};

/** The frame a description stands for. Throws TraceInputError for what cannot be a packet. */
export function frameOf(d: PacketDescription, topo: Topology): Ethernet {
  const { src, dst } = defaults(d, topo);
  const vlans = d.vlan !== undefined ? [inRange(d.vlan, 4095, 'vlan', 0)] : [];
  const proto = d.proto ?? 'icmp';
  if (proto === 'arp') {
    return { dst, src, vlans, etherType: ETH_ARP, payload: { kind: 'arp', op: 1, sha: src, spa: need(d.srcIp, 'srcIp'), tha: 0, tpa: need(d.dstIp, 'dstIp') } };
  }
  const protocol = typeof proto === 'number' ? proto : ({ tcp: 6, udp: 17, icmp: 1 } as Record<string, number>)[proto];
  if (protocol === undefined || protocol < 0 || protocol > 255) throw new TraceInputError(`unknown protocol ${String(proto)}`);
  const later = d.fragment === 'later';
  let payload: Ipv4['payload'];
  if (later) payload = { kind: 'raw', data: new Uint8Array(8) };
  else if (protocol === 6) {
    const flags = (d.tcpFlags ?? 'syn').split(',').filter(Boolean).reduce((acc, f) => {
      const bit = FLAG_BITS[f.trim().toLowerCase()];
      if (bit === undefined) throw new TraceInputError(`unknown TCP flag ${f}`);
      return acc | bit;
    }, 0);
    payload = { kind: 'tcp', srcPort: inRange(d.srcPort, 65535, 'srcPort', 40000), dstPort: inRange(d.dstPort, 65535, 'dstPort', 80), seq: 1, ack: 0, flags, window: 65535, urgent: 0, options: new Uint8Array(0), payload: new Uint8Array(0) };
  } else if (protocol === 17) {
    payload = { kind: 'udp', srcPort: inRange(d.srcPort, 65535, 'srcPort', 40000), dstPort: inRange(d.dstPort, 65535, 'dstPort', 53), payload: new Uint8Array(8) };
  } else if (protocol === 1) {
    payload = { kind: 'icmp', type: inRange(d.icmpType, 255, 'icmpType', 8), code: inRange(d.icmpCode, 255, 'icmpCode', 0), rest: 0x00010001, data: new Uint8Array(8) };
  } else payload = { kind: 'raw', data: new Uint8Array(8) };
  return {
    dst, src, vlans, etherType: ETH_IPV4,
    payload: {
      kind: 'ipv4', tos: 0, id: 1, df: false, mf: d.fragment === 'first', fragOffset: later ? 185 : 0, ttl: inRange(d.ttl, 255, 'ttl', 64),
      protocol, src: need(d.srcIp, 'srcIp'), dst: need(d.dstIp, 'dstIp'), options: new Uint8Array(0), payload,
    },
  };
}

/** Header rewrites in words: "ip.src=172.16.0.10". */
export function describeRewrites(r: Rewrites): string[] {
  const out: string[] = [];
  if (r.ethSrc !== undefined) out.push(`eth.src=${macToString(r.ethSrc)}`);
  if (r.ethDst !== undefined) out.push(`eth.dst=${macToString(r.ethDst)}`);
  if (r.ipSrc !== undefined) out.push(`ip.src=${intToIp(r.ipSrc)}`);
  if (r.ipDst !== undefined) out.push(`ip.dst=${intToIp(r.ipDst)}`);
  if (r.ipTtl !== undefined) out.push(`ip.ttl=${r.ipTtl}`);
  if (r.srcPort !== undefined) out.push(`tp.src=${r.srcPort}`);
  if (r.dstPort !== undefined) out.push(`tp.dst=${r.dstPort}`);
  if (r.icmpId !== undefined) out.push(`icmp.id=${r.icmpId}`);
  if (r.vlan !== undefined) out.push(`vlan=${r.vlan}`);
  if (r.icmpData !== undefined) out.push('icmp.data rewritten');
  return out;
}

export interface TraceReport {
  action: SimResult['action'];
  reason: string;
  outputs: { portId: string; rewrites: string[] }[];
  generated: { egressPort: string; summary: string }[];
  steps: TraceStep[];
  detailed: string;
  minimal: string;
}

function summary(f: Ethernet): string {
  const p = f.payload;
  if (p.kind === 'arp') return `ARP ${p.op === 1 ? 'request' : 'reply'} ${intToIp(p.spa)} -> ${intToIp(p.tpa)}`;
  if (p.kind === 'ipv4') {
    const l4 = p.payload;
    const what = l4.kind === 'icmp' ? `ICMP type ${l4.type} code ${l4.code}` : l4.kind === 'tcp' ? `TCP ${l4.srcPort} -> ${l4.dstPort}` : l4.kind === 'udp' ? `UDP ${l4.srcPort} -> ${l4.dstPort}` : `IP proto ${p.protocol}`;
    return `${what} ${intToIp(p.src)} -> ${intToIp(p.dst)}`;
  }
  return `ethertype 0x${f.etherType.toString(16)}`;
}

/**
 * Runs the agent's simulation on a described packet and reports every step, with the result
 * itself (what was missing, what it waits for) for a caller that loads and tries again.
 */
export function trace(d: PacketDescription, topo: Topology, state: SimState, now: number): { report: TraceReport; result: SimResult } {
  const frame = frameOf(d, topo);
  const res = simulate(topo, state, matchOf(frame, d.inPort), frame, { now, trace: true });
  const outputs = res.outputs.map((o) => ({ portId: o.portId, rewrites: describeRewrites(o.rewrites) }));
  const generated = res.generated.map((g) => ({ egressPort: g.egressPort, summary: summary(g.frame) }));
  const detailed = [
    `packet: ${summary(frame)} eth ${macToString(frame.src)} -> ${macToString(frame.dst)} in port ${d.inPort}`,
    ...(res.trace ?? []).map((s) => (s.kind === 'result' ? s.verdict : `  ${s.kind.padEnd(9)} ${s.name ? `${s.name} ` : ''}${s.id ? `(${s.id}) ` : ''}${s.verdict}`)),
    ...generated.map((g) => `  generates ${g.summary} out of port ${g.egressPort}`),
  ].join('\n');
  const minimal = [
    ...outputs.map((o) => `${o.rewrites.map((r) => `${r}; `).join('')}output("${o.portId}");`),
    ...(outputs.length === 0 ? [`${res.action} (${res.reason});`] : []),
  ].join('\n');
  return { report: { action: res.action, reason: res.reason, outputs, generated, steps: res.trace ?? [], detailed, minimal }, result: res };
}
