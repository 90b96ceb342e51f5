import { onesSum } from '../../packets/bytes.ts';

/**
 * Offloads of frames that reach the datapath through a packet socket with PACKET_VNET_HDR: the
 * kernel hands over what a VM's stack left for the NIC to do (a checksum to finish, a TCP or UDP
 * super-frame to cut) in a virtio-net header before each frame. Everything past the datapath's
 * ingress (simulation, rewrites, tunnels) wants ordinary frames, so both are done here.
 */

/** sizeof(struct virtio_net_hdr). */
export const VNET_HDR_LEN = 10;

const F_NEEDS_CSUM = 1;
const GSO_NONE = 0;
const GSO_TCPV4 = 1;
const GSO_UDP = 3; // UFO: IP fragmentation, which no current kernel hands a packet socket
const GSO_TCPV6 = 4;
const GSO_UDP_L4 = 5;
const GSO_ECN = 0x80;
/** Below Linux's smallest TCP MSS (88): a guest asking for tiny segments only makes the agent work. */
const MIN_GSO_SIZE = 64;

const ETH_P_IPV4 = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const VLAN_TYPES = new Set([0x8100, 0x88a8]);

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const put16 = (b: Uint8Array, at: number, v: number): void => {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
};

/**
 * Calls `each` with the ordinary frames a vnet-header-prefixed buffer stands for: the frame itself
 * with its checksum finished, or the segments of a super-frame. Returns false for a header that
 * does not describe its frame (dropped and counted by the caller). `each` may get a view into
 * `buf`, valid only during the call.
 */
export function unoffload(buf: Uint8Array, each: (frame: Uint8Array) => void): boolean {
  if (buf.length < VNET_HDR_LEN) return false;
  const flags = buf[0]!;
  const gso = buf[1]! & ~GSO_ECN;
  const gsoSize = buf[4]! | (buf[5]! << 8);
  const csumStart = buf[6]! | (buf[7]! << 8);
  const csumOffset = buf[8]! | (buf[9]! << 8);
  const frame = buf.subarray(VNET_HDR_LEN);
  if (gso === GSO_NONE) {
    if (flags & F_NEEDS_CSUM) {
      if (csumStart + csumOffset + 2 > frame.length) return false;
      finishChecksum(frame, csumStart, csumOffset);
    }
    each(frame);
    return true;
  }
  if (gso === GSO_UDP || gsoSize < MIN_GSO_SIZE || !(flags & F_NEEDS_CSUM)) return false;
  const l3 = networkOffset(frame);
  if (l3 < 0) return false;
  const v4 = u16(frame, l3 - 2) === ETH_P_IPV4;
  if ((gso === GSO_TCPV4 && !v4) || (gso === GSO_TCPV6 && v4)) return false;
  if (gso === GSO_TCPV4 || gso === GSO_TCPV6) return segmentTcp(frame, l3, csumStart, gsoSize, v4, each);
  if (gso === GSO_UDP_L4) return segmentUdp(frame, l3, csumStart, gsoSize, v4, each);
  return false;
}

/** Writes the finished checksum: the field holds the pseudo-header sum, the kernel's partial form. */
function finishChecksum(frame: Uint8Array, start: number, offset: number): void {
  const sum = ~onesSum(frame.subarray(start)) & 0xffff;
  // A UDP checksum of 0 means "none": its ones'-complement twin says the same sum.
  put16(frame, start + offset, sum === 0 ? 0xffff : sum);
}

/** Where the IP header starts (past VLAN tags), or -1 for anything but IPv4 or IPv6. */
function networkOffset(frame: Uint8Array): number {
  let at = 12;
  while (at + 4 <= frame.length && VLAN_TYPES.has(u16(frame, at))) at += 4;
  if (at + 2 > frame.length) return -1;
  const type = u16(frame, at);
  return type === ETH_P_IPV4 || type === ETH_P_IPV6 ? at + 2 : -1;
}

/** The ones'-complement sum of the pseudo-header for an L4 segment of `l4Len` bytes. */
function pseudoSum(frame: Uint8Array, l3: number, v4: boolean, proto: number, l4Len: number): number {
  const addrs = v4 ? frame.subarray(l3 + 12, l3 + 20) : frame.subarray(l3 + 8, l3 + 40);
  return onesSum(addrs, proto + (l4Len & 0xffff) + Math.floor(l4Len / 0x10000));
}

/** A copy of the headers (up to `payloadAt`) and one chunk of the payload, with IP lengths set. */
function cut(frame: Uint8Array, l3: number, v4: boolean, payloadAt: number, from: number, len: number, index: number): Uint8Array {
  const seg = new Uint8Array(payloadAt + len);
  seg.set(frame.subarray(0, payloadAt));
  seg.set(frame.subarray(from, from + len), payloadAt);
  if (v4) {
    const ihl = (seg[l3]! & 15) * 4;
    put16(seg, l3 + 2, seg.length - l3);
    put16(seg, l3 + 4, (u16(frame, l3 + 4) + index) & 0xffff);
    put16(seg, l3 + 10, 0);
    put16(seg, l3 + 10, ~onesSum(seg.subarray(l3, l3 + ihl)) & 0xffff);
  } else {
    put16(seg, l3 + 4, seg.length - l3 - 40);
  }
  return seg;
}

function segmentTcp(frame: Uint8Array, l3: number, l4: number, mss: number, v4: boolean, each: (f: Uint8Array) => void): boolean {
  if (l4 + 20 > frame.length) return false;
  const payloadAt = l4 + (frame[l4 + 12]! >> 4) * 4;
  if (payloadAt > frame.length || payloadAt - l4 < 20) return false;
  const seq = ((frame[l4 + 4]! << 24) | (frame[l4 + 5]! << 16) | (frame[l4 + 6]! << 8) | frame[l4 + 7]!) >>> 0;
  const flags = frame[l4 + 13]!;
  const total = frame.length - payloadAt;
  for (let off = 0, i = 0; off < total || i === 0; off += mss, i++) {
    const len = Math.min(mss, total - off);
    const last = off + len >= total;
    const seg = cut(frame, l3, v4, payloadAt, payloadAt + off, len, i);
    const s = (seq + off) >>> 0;
    seg[l4 + 4] = s >>> 24;
    seg[l4 + 5] = (s >>> 16) & 0xff;
    seg[l4 + 6] = (s >>> 8) & 0xff;
    seg[l4 + 7] = s & 0xff;
    // FIN and PSH belong to the last segment, CWR to the first, as the kernel's own segmentation.
    seg[l4 + 13] = flags & (last ? 0xff : ~0x09) & (i === 0 ? 0xff : ~0x80);
    put16(seg, l4 + 16, 0);
    put16(seg, l4 + 16, ~onesSum(seg.subarray(l4), pseudoSum(seg, l3, v4, 6, seg.length - l4)) & 0xffff);
    each(seg);
  }
  return true;
}

function segmentUdp(frame: Uint8Array, l3: number, l4: number, size: number, v4: boolean, each: (f: Uint8Array) => void): boolean {
  const payloadAt = l4 + 8;
  if (payloadAt > frame.length) return false;
  const total = frame.length - payloadAt;
  for (let off = 0, i = 0; off < total; off += size, i++) {
    const len = Math.min(size, total - off);
    const seg = cut(frame, l3, v4, payloadAt, payloadAt + off, len, i);
    put16(seg, l4 + 4, seg.length - l4);
    put16(seg, l4 + 6, 0);
    const sum = ~onesSum(seg.subarray(l4), pseudoSum(seg, l3, v4, 17, seg.length - l4)) & 0xffff;
    put16(seg, l4 + 6, sum === 0 ? 0xffff : sum);
    each(seg);
  }
  return true;
}
