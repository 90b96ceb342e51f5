import { MalformedPacket, type Reader, type Writer } from './bytes.ts';
import type { Arp } from './types.ts';

/** ARP for IPv4 over Ethernet; anything else is malformed for our purposes. */
export function parseArp(r: Reader): Arp {
  const htype = r.u16('ARP htype');
  const ptype = r.u16('ARP ptype');
  const hlen = r.u8('ARP hlen');
  const plen = r.u8('ARP plen');
  if (htype !== 1 || ptype !== 0x0800 || hlen !== 6 || plen !== 4) throw new MalformedPacket(`unsupported ARP (htype ${htype}, ptype ${ptype}, hlen ${hlen}, plen ${plen})`);
  const op = r.u16('ARP op');
  return { kind: 'arp', op, sha: r.mac('ARP sha'), spa: r.u32('ARP spa'), tha: r.mac('ARP tha'), tpa: r.u32('ARP tpa') };
}

export function writeArp(w: Writer, a: Arp): void {
  w.u16(1).u16(0x0800).u8(6).u8(4).u16(a.op).mac(a.sha).u32(a.spa).mac(a.tha).u32(a.tpa);
}
