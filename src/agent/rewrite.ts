import { rewriteQuoted } from '../packets/ipv4.ts';
import type { Ethernet, Ipv4 } from '../packets/types.ts';
import type { Rewrites } from '../simulation/flow-match.ts';

/** The frame with a flow's header rewrites applied (a new object; checksums are redone on build). */
export function applyRewrites(frame: Ethernet, r: Rewrites): Ethernet {
  const out: Ethernet = { ...frame };
  if (r.ethSrc !== undefined) out.src = r.ethSrc;
  if (r.ethDst !== undefined) out.dst = r.ethDst;
  if (r.vlan !== undefined) out.vlans = r.vlan === -1 ? [] : [r.vlan];
  if (frame.payload.kind !== 'ipv4') return out;
  const ip: Ipv4 = { ...frame.payload };
  if (r.ipSrc !== undefined) ip.src = r.ipSrc;
  if (r.ipDst !== undefined) ip.dst = r.ipDst;
  if (r.ipTtl !== undefined) ip.ttl = r.ipTtl;
  const l4 = ip.payload;
  if (l4.kind === 'tcp' || l4.kind === 'udp') {
    ip.payload = { ...l4, srcPort: r.srcPort ?? l4.srcPort, dstPort: r.dstPort ?? l4.dstPort };
  } else if (l4.kind === 'icmp') {
    let rest = l4.rest;
    if (r.icmpId !== undefined) rest = ((r.icmpId << 16) | (rest & 0xffff)) >>> 0;
    const data = r.icmpData ? rewriteQuoted(l4.data, r.icmpData) : l4.data;
    ip.payload = { ...l4, rest, data };
  }
  out.payload = ip;
  return out;
}

/** Whether rewrites change anything: if not, the original bytes go out untouched. */
export function isEmpty(r: Rewrites): boolean {
  for (const _ in r) return false;
  return true;
}
