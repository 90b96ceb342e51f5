import { checksum, MalformedPacket, onesSum, type Reader, type Writer } from './bytes.ts';
import { PROTO_ICMP, PROTO_TCP, PROTO_UDP, type Icmp, type Ipv4, type Tcp, type Udp } from './types.ts';

export function parseIpv4(r: Reader): Ipv4 {
  const start = r.offset;
  const vihl = r.u8('IPv4 version');
  if (vihl >> 4 !== 4) throw new MalformedPacket(`IP version ${vihl >> 4} in an IPv4 ethertype`);
  const ihl = (vihl & 15) * 4;
  if (ihl < 20) throw new MalformedPacket(`IPv4 header length ${ihl} < 20`);
  const tos = r.u8('IPv4 tos');
  const totalLength = r.u16('IPv4 length');
  if (totalLength < ihl) throw new MalformedPacket(`IPv4 total length ${totalLength} < header length ${ihl}`);
  if (totalLength - 4 > r.remaining) throw new MalformedPacket(`truncated IPv4 packet: length ${totalLength}, ${r.remaining + 4} bytes present`);
  const id = r.u16('IPv4 id');
  const frag = r.u16('IPv4 fragment');
  const ttl = r.u8('IPv4 ttl');
  const protocol = r.u8('IPv4 protocol');
  const sum = r.u16('IPv4 checksum');
  const src = r.u32('IPv4 source');
  const dst = r.u32('IPv4 destination');
  const options = r.take(ihl - 20, 'IPv4 options');
  if (checksum(r.bytes.subarray(start, start + ihl)) !== 0) throw new MalformedPacket('bad IPv4 header checksum');
  // Ethernet pads short frames: the IP length, not the frame, bounds the payload.
  const body = r.sub(totalLength - ihl, 'IPv4 payload');
  const fragOffset = frag & 0x1fff;
  const ip: Ipv4 = {
    kind: 'ipv4', tos, id, df: (frag & 0x4000) !== 0, mf: (frag & 0x2000) !== 0, fragOffset, ttl, protocol, src, dst,
    options, payload: { kind: 'raw', data: new Uint8Array(0) }, checksum: sum, totalLength,
  };
  if (fragOffset > 0) ip.payload = { kind: 'raw', data: body.rest() };
  else if (protocol === PROTO_ICMP) ip.payload = parseIcmp(body);
  else if (protocol === PROTO_UDP) ip.payload = parseUdp(body);
  else if (protocol === PROTO_TCP) ip.payload = parseTcp(body);
  else ip.payload = { kind: 'raw', data: body.rest() };
  return ip;
}

export function parseIcmp(r: Reader): Icmp {
  const type = r.u8('ICMP type');
  const code = r.u8('ICMP code');
  const sum = r.u16('ICMP checksum');
  const rest = r.u32('ICMP header');
  return { kind: 'icmp', type, code, rest, data: r.rest(), checksum: sum };
}

export function parseUdp(r: Reader): Udp {
  const srcPort = r.u16('UDP source port');
  const dstPort = r.u16('UDP destination port');
  const length = r.u16('UDP length');
  const sum = r.u16('UDP checksum');
  if (length < 8) throw new MalformedPacket(`UDP length ${length} < 8`);
  // A first fragment holds only part of the datagram: take what is there.
  const payload = r.take(Math.min(length - 8, r.remaining), 'UDP payload');
  return { kind: 'udp', srcPort, dstPort, payload, checksum: sum };
}

export function parseTcp(r: Reader): Tcp {
  const srcPort = r.u16('TCP source port');
  const dstPort = r.u16('TCP destination port');
  const seq = r.u32('TCP seq');
  const ack = r.u32('TCP ack');
  const off = r.u16('TCP offset/flags');
  const dataOffset = (off >> 12) * 4;
  if (dataOffset < 20) throw new MalformedPacket(`TCP data offset ${dataOffset} < 20`);
  const window = r.u16('TCP window');
  const sum = r.u16('TCP checksum');
  const urgent = r.u16('TCP urgent');
  const options = r.take(dataOffset - 20, 'TCP options');
  return { kind: 'tcp', srcPort, dstPort, seq, ack, flags: off & 0x1ff, window, urgent, options, payload: r.rest(), checksum: sum };
}

function pseudoHeaderSum(ip: Ipv4, length: number): number {
  return onesSum(
    new Uint8Array([ip.src >>> 24, (ip.src >>> 16) & 255, (ip.src >>> 8) & 255, ip.src & 255, ip.dst >>> 24, (ip.dst >>> 16) & 255, (ip.dst >>> 8) & 255, ip.dst & 255, 0, ip.protocol, length >> 8, length & 255]),
  );
}

/** Writes the header, the payload, then fills in lengths and checksums. */
export function writeIpv4(w: Writer, ip: Ipv4): void {
  if (ip.options.length % 4 !== 0) throw new RangeError('IPv4 options must be a multiple of 4 bytes');
  const start = w.pos;
  const ihl = 20 + ip.options.length;
  const frag = (ip.df ? 0x4000 : 0) | (ip.mf ? 0x2000 : 0) | (ip.fragOffset & 0x1fff);
  w.u8(0x40 | (ihl / 4)).u8(ip.tos).u16(0).u16(ip.id).u16(frag).u8(ip.ttl).u8(ip.protocol).u16(0).u32(ip.src).u32(ip.dst).bytes(ip.options);
  const l4 = w.pos;
  const p = ip.payload;
  if (p.kind === 'icmp') {
    w.u8(p.type).u8(p.code).u16(0).u32(p.rest).bytes(p.data);
    w.setU16(l4 + 2, checksum(w.slice(l4)));
  } else if (p.kind === 'udp') {
    const len = 8 + p.payload.length;
    w.u16(p.srcPort).u16(p.dstPort).u16(len).u16(0).bytes(p.payload);
    if (ip.fragOffset === 0 && !ip.mf) w.setU16(l4 + 6, checksum(w.slice(l4), pseudoHeaderSum(ip, len)) || 0xffff);
  } else if (p.kind === 'tcp') {
    if (p.options.length % 4 !== 0) throw new RangeError('TCP options must be a multiple of 4 bytes');
    w.u16(p.srcPort).u16(p.dstPort).u32(p.seq).u32(p.ack).u16((((20 + p.options.length) / 4) << 12) | (p.flags & 0x1ff)).u16(p.window).u16(0).u16(p.urgent).bytes(p.options).bytes(p.payload);
    if (ip.fragOffset === 0 && !ip.mf) w.setU16(l4 + 16, checksum(w.slice(l4), pseudoHeaderSum(ip, w.pos - l4)));
  } else {
    w.bytes(p.data);
  }
  w.setU16(start + 2, w.pos - start);
  w.setU16(start + 10, checksum(w.slice(start, start + ihl)));
}

/** The header an ICMP error quotes: addresses, protocol and (if present) ports or echo id. */
export interface QuotedHeader {
  src: number;
  dst: number;
  protocol: number;
  srcPort: number;
  dstPort: number;
  headerLength: number;
}

/** Reads the original datagram quoted in an ICMP error (header + first 8 bytes), or null. */
export function parseQuoted(data: Uint8Array): QuotedHeader | null {
  if (data.length < 20 || data[0]! >> 4 !== 4) return null;
  const ihl = (data[0]! & 15) * 4;
  if (ihl < 20 || data.length < ihl + 4) return null;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const protocol = data[9]!;
  let srcPort = v.getUint16(ihl);
  let dstPort = v.getUint16(ihl + 2);
  if (protocol === PROTO_ICMP) {
    // Quoted echo: the identifier plays the part of both ports.
    if (data.length < ihl + 6) return null;
    srcPort = dstPort = v.getUint16(ihl + 4);
  }
  return { src: v.getUint32(12), dst: v.getUint32(16), protocol, srcPort, dstPort, headerLength: ihl };
}

/** The quoted datagram with new addresses/ports (for ICMP errors through NAT); header checksum fixed. */
export function rewriteQuoted(data: Uint8Array, q: Pick<QuotedHeader, 'src' | 'dst' | 'srcPort' | 'dstPort'>): Uint8Array {
  const out = data.slice();
  const v = new DataView(out.buffer);
  const ihl = (out[0]! & 15) * 4;
  v.setUint32(12, q.src);
  v.setUint32(16, q.dst);
  if (out[9] === PROTO_ICMP) v.setUint16(ihl + 4, q.srcPort);
  else {
    v.setUint16(ihl, q.srcPort);
    v.setUint16(ihl + 2, q.dstPort);
  }
  v.setUint16(10, 0);
  v.setUint16(10, checksum(out.subarray(0, ihl)));
  return out;
}
