import { MalformedPacket, Reader, Writer } from './bytes.ts';
import { readEthernet, writeEthernet } from './ethernet.ts';
import type { Ethernet, ParseResult } from './types.ts';

/** VXLAN (RFC 7348): 8-byte header with a 24-bit VNI, then the inner Ethernet frame. */
export interface Vxlan {
  vni: number;
  inner: Ethernet;
}

export const VXLAN_FLAG_VNI = 0x08;

export function parseVxlan(udpPayload: Uint8Array): ParseResult<Vxlan> {
  try {
    const r = new Reader(udpPayload);
    const flags = r.u8('VXLAN flags');
    if ((flags & VXLAN_FLAG_VNI) === 0) throw new MalformedPacket('VXLAN header without the VNI flag');
    r.take(3, 'VXLAN reserved');
    const vni = r.u32('VXLAN VNI') >>> 8;
    return { ok: true, value: { vni, inner: readEthernet(r) } };
  } catch (err) {
    if (err instanceof MalformedPacket) return { ok: false, reason: err.reason };
    throw err;
  }
}

export function buildVxlan(v: Vxlan): Uint8Array {
  if (v.vni < 0 || v.vni > 0xffffff) throw new RangeError(`VNI ${v.vni} out of range`);
  const w = new Writer(128);
  w.u8(VXLAN_FLAG_VNI).zeros(3).u32((v.vni << 8) >>> 0);
  writeEthernet(w, v.inner);
  return w.done();
}
