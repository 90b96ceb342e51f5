import { BROADCAST_MAC, Writer } from '../packets/bytes.ts';
import { writeIpv4 } from '../packets/ipv4.ts';
import {
  ARP_REPLY,
  ARP_REQUEST,
  ETH_ARP,
  ETH_IPV4,
  ICMP_ECHO_REPLY,
  PROTO_ICMP,
  PROTO_TCP,
  TCP_ACK,
  TCP_RST,
  type Ethernet,
  type Ipv4,
} from '../packets/types.ts';
import type { PacketContext } from './context.ts';

/** Packets the virtual devices answer with: ARP, ICMP errors and echo replies, TCP resets. */

export function arpReply(to: { mac: number; ip: number }, from: { mac: number; ip: number }): Ethernet {
  return {
    dst: to.mac, src: from.mac, vlans: [], etherType: ETH_ARP,
    payload: { kind: 'arp', op: ARP_REPLY, sha: from.mac, spa: from.ip, tha: to.mac, tpa: to.ip },
  };
}

export function arpRequest(from: { mac: number; ip: number }, target: number): Ethernet {
  return {
    dst: BROADCAST_MAC, src: from.mac, vlans: [], etherType: ETH_ARP,
    payload: { kind: 'arp', op: ARP_REQUEST, sha: from.mac, spa: from.ip, tha: 0, tpa: target },
  };
}

function ipPacket(dstMac: number, srcMac: number, ip: Omit<Ipv4, 'kind' | 'tos' | 'id' | 'df' | 'mf' | 'fragOffset' | 'options'>): Ethernet {
  return {
    dst: dstMac, src: srcMac, vlans: [], etherType: ETH_IPV4,
    payload: { kind: 'ipv4', tos: 0, id: 0, df: false, mf: false, fragOffset: 0, options: new Uint8Array(0), ...ip },
  };
}

/** The arrived IPv4 packet's header and first 8 payload bytes, as an ICMP error quotes them. */
function quote(ip: Ipv4): Uint8Array {
  const w = new Writer(128);
  writeIpv4(w, ip);
  return w.slice(0, Math.min(w.pos, 20 + ip.options.length + 8)).slice();
}

/**
 * An ICMP error about the packet being simulated, from (srcMac, srcIp) back to its sender; null
 * when there is no frame to quote or the packet must not draw an error (RFC 1122: not about
 * ICMP errors, broadcasts or non-first fragments).
 */
export function icmpError(ctx: PacketContext, from: { mac: number; ip: number }, type: number, code: number): Ethernet | null {
  const frame = ctx.frame;
  if (!frame || frame.payload.kind !== 'ipv4') return null;
  const ip = frame.payload;
  if (ip.fragOffset > 0 || frame.dst === BROADCAST_MAC) return null;
  if (ip.payload.kind === 'icmp' && ![0, 8, 13, 14, 17, 18].includes(ip.payload.type)) return null;
  return ipPacket(ctx.orig.ethSrc, from.mac, {
    ttl: 64, protocol: PROTO_ICMP, src: from.ip, dst: ip.src,
    payload: { kind: 'icmp', type, code, rest: 0, data: quote(ip) },
  });
}

export function icmpEchoReply(ctx: PacketContext, from: { mac: number; ip: number }): Ethernet | null {
  const frame = ctx.frame;
  if (!frame || frame.payload.kind !== 'ipv4' || frame.payload.payload.kind !== 'icmp') return null;
  const ip = frame.payload;
  const icmp = frame.payload.payload;
  return ipPacket(ctx.orig.ethSrc, from.mac, {
    ttl: 64, protocol: PROTO_ICMP, src: from.ip, dst: ip.src,
    payload: { kind: 'icmp', type: ICMP_ECHO_REPLY, code: 0, rest: icmp.rest, data: icmp.data },
  });
}

/** The reset a reject rule answers a TCP segment with. */
export function tcpReset(ctx: PacketContext): Ethernet | null {
  const frame = ctx.frame;
  if (!frame || frame.payload.kind !== 'ipv4' || frame.payload.payload.kind !== 'tcp') return null;
  const ip = frame.payload;
  const tcp = frame.payload.payload;
  const hasAck = (tcp.flags & TCP_ACK) !== 0;
  const synFin = ((tcp.flags & 0x02) !== 0 ? 1 : 0) + ((tcp.flags & 0x01) !== 0 ? 1 : 0);
  return ipPacket(frame.src, frame.dst, {
    ttl: 64, protocol: PROTO_TCP, src: ip.dst, dst: ip.src,
    payload: {
      kind: 'tcp', srcPort: tcp.dstPort, dstPort: tcp.srcPort,
      seq: hasAck ? tcp.ack : 0, ack: hasAck ? 0 : (tcp.seq + tcp.payload.length + synFin) >>> 0,
      flags: hasAck ? TCP_RST : TCP_RST | TCP_ACK, window: 0, urgent: 0, options: new Uint8Array(0), payload: new Uint8Array(0),
    },
  });
}
