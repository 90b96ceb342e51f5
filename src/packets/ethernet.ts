import { parseArp, writeArp } from './arp.ts';
import { MalformedPacket, Reader, Writer } from './bytes.ts';
import { parseIpv4, writeIpv4 } from './ipv4.ts';
import { ETH_ARP, ETH_IPV4, ETH_QINQ, ETH_VLAN, type Ethernet, type ParseResult } from './types.ts';

const MAX_VLAN_TAGS = 2;

/** Parses an Ethernet frame and everything inside it; malformed frames come back as a reason. */
export function parseEthernet(frame: Uint8Array): ParseResult<Ethernet> {
  try {
    return { ok: true, value: readEthernet(new Reader(frame)) };
  } catch (err) {
    if (err instanceof MalformedPacket) return { ok: false, reason: err.reason };
    return { ok: false, reason: `unparseable frame: ${String(err)}` };
  }
}

export function readEthernet(r: Reader): Ethernet {
  const dst = r.mac('ethernet destination');
  const src = r.mac('ethernet source');
  let etherType = r.u16('ethertype');
  const vlans: number[] = [];
  while (etherType === ETH_VLAN || etherType === ETH_QINQ) {
    if (vlans.length === MAX_VLAN_TAGS) throw new MalformedPacket('too many VLAN tags');
    vlans.push(r.u16('VLAN tag'));
    etherType = r.u16('ethertype');
  }
  if (etherType < 0x600) throw new MalformedPacket(`802.3 length field ${etherType} instead of an ethertype`);
  let payload: Ethernet['payload'];
  if (etherType === ETH_ARP) payload = parseArp(r);
  else if (etherType === ETH_IPV4) payload = parseIpv4(r);
  else payload = { kind: 'raw', data: r.rest() };
  return { dst, src, vlans, etherType, payload };
}

export function writeEthernet(w: Writer, e: Ethernet): void {
  w.mac(e.dst).mac(e.src);
  e.vlans.forEach((tci, i) => w.u16(i === 0 && e.vlans.length > 1 ? ETH_QINQ : ETH_VLAN).u16(tci));
  w.u16(e.etherType);
  const p = e.payload;
  if (p.kind === 'arp') writeArp(w, p);
  else if (p.kind === 'ipv4') writeIpv4(w, p);
  else w.bytes(p.data);
}

export function buildEthernet(e: Ethernet): Uint8Array {
  const w = new Writer(128);
  writeEthernet(w, e);
  return w.done();
}
