import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { unoffload, VNET_HDR_LEN } from '../../src/agent/datapath/offload.ts';
import { onesSum } from '../../src/packets/bytes.ts';

const ETH = 14;

/** A TCP/IPv4 frame as a VM's stack hands it to a NIC with TSO: one super-frame, checksum partial. */
function superFrame(payload: Uint8Array, tcpFlags: number, o: { vlan?: boolean; ipId?: number; seq?: number } = {}): Uint8Array {
  const l2 = o.vlan ? ETH + 4 : ETH;
  const f = new Uint8Array(l2 + 20 + 20 + payload.length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
  if (o.vlan) v.setUint32(12, 0x81000000 | 42);
  v.setUint16(l2 - 2, 0x0800);
  f[l2] = 0x45;
  v.setUint16(l2 + 2, 0); // a super-frame's IP length says nothing: the kernel sets it per segment
  v.setUint16(l2 + 4, o.ipId ?? 100);
  f[l2 + 6] = 0x40;
  f[l2 + 8] = 64;
  f[l2 + 9] = 6;
  f.set([10, 0, 0, 1, 10, 0, 0, 2], l2 + 12);
  const l4 = l2 + 20;
  v.setUint16(l4, 40000);
  v.setUint16(l4 + 2, 5001);
  v.setUint32(l4 + 4, o.seq ?? 0xfffff000);
  v.setUint32(l4 + 8, 7);
  f[l4 + 12] = 5 << 4;
  f[l4 + 13] = tcpFlags;
  v.setUint16(l4 + 14, 65535);
  f.set(payload, l4 + 20);
  return f;
}

function vnet(frame: Uint8Array, h: { flags: number; gso: number; gsoSize?: number; csumStart: number; csumOffset: number }): Uint8Array {
  const b = new Uint8Array(VNET_HDR_LEN + frame.length);
  const v = new DataView(b.buffer);
  b[0] = h.flags;
  b[1] = h.gso;
  v.setUint16(4, h.gsoSize ?? 0, true);
  v.setUint16(6, h.csumStart, true);
  v.setUint16(8, h.csumOffset, true);
  b.set(frame, VNET_HDR_LEN);
  return b;
}

const segments = (buf: Uint8Array): Uint8Array[] | null => {
  const out: Uint8Array[] = [];
  return unoffload(buf, (f) => out.push(f.slice())) ? out : null;
};

/** Checks a segment as a receiver would: IP header checksum, IP length, TCP checksum. */
function checkTcp4(seg: Uint8Array, l2: number): { seq: number; flags: number; id: number; payload: Uint8Array } {
  const v = new DataView(seg.buffer, seg.byteOffset);
  assert.equal(onesSum(seg.subarray(l2, l2 + 20)), 0xffff, 'IP header checksum');
  assert.equal(v.getUint16(l2 + 2), seg.length - l2, 'IP total length');
  const l4 = l2 + 20;
  const pseudo = onesSum(seg.subarray(l2 + 12, l2 + 20), 6 + seg.length - l4);
  assert.equal(onesSum(seg.subarray(l4), pseudo), 0xffff, 'TCP checksum');
  return { seq: v.getUint32(l4 + 4), flags: seg[l4 + 13]!, id: v.getUint16(l2 + 4), payload: seg.subarray(l4 + 20) };
}

describe('virtio-net offloads at the datapath ingress', () => {
  it('cuts a TCP super-frame into MSS segments as the kernel would', () => {
    const payload = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    const buf = vnet(superFrame(payload, 0x18 | 0x01 | 0x80), { flags: 1, gso: 1, gsoSize: 1448, csumStart: ETH + 20, csumOffset: 16 });
    const segs = segments(buf)!;
    assert.equal(segs.length, 4);
    const parsed = segs.map((s) => checkTcp4(s, ETH));
    assert.deepEqual(parsed.map((p) => p.payload.length), [1448, 1448, 1448, 656]);
    assert.deepEqual(Buffer.concat(parsed.map((p) => p.payload)), Buffer.from(payload));
    // Sequence numbers wrap past 2^32; IP ids count up.
    assert.deepEqual(parsed.map((p) => p.seq), [0xfffff000, 0xfffff000 + 1448, (0xfffff000 + 2896) >>> 0, (0xfffff000 + 4344) >>> 0]);
    assert.deepEqual(parsed.map((p) => p.id), [100, 101, 102, 103]);
    // ACK everywhere; PSH and FIN only on the last; CWR only on the first.
    assert.deepEqual(parsed.map((p) => p.flags), [0x90, 0x10, 0x10, 0x19]);
  });

  it('cuts behind a VLAN tag, and keeps a super-frame that fits in one segment whole', () => {
    const buf = vnet(superFrame(new Uint8Array(3000).fill(1), 0x10, { vlan: true }), { flags: 1, gso: 1, gsoSize: 1000, csumStart: ETH + 4 + 20, csumOffset: 16 });
    assert.deepEqual(segments(buf)!.map((s) => checkTcp4(s, ETH + 4).payload.length), [1000, 1000, 1000]);
    const one = vnet(superFrame(new Uint8Array(10).fill(1), 0x10), { flags: 1, gso: 1, gsoSize: 1448, csumStart: ETH + 20, csumOffset: 16 });
    assert.equal(segments(one)!.length, 1);
  });

  it('finishes a partial checksum and leaves a complete frame alone', () => {
    const frame = superFrame(new Uint8Array(333).fill(9), 0x18);
    const l2 = ETH;
    new DataView(frame.buffer).setUint16(l2 + 2, frame.length - l2);
    new DataView(frame.buffer).setUint16(l2 + 10, ~onesSum(frame.subarray(l2, l2 + 20)) & 0xffff);
    // The stack leaves the pseudo-header sum in the checksum field.
    const pseudo = onesSum(frame.subarray(l2 + 12, l2 + 20), 6 + frame.length - l2 - 20);
    new DataView(frame.buffer).setUint16(l2 + 20 + 16, pseudo);
    const [done] = segments(vnet(frame, { flags: 1, gso: 0, csumStart: l2 + 20, csumOffset: 16 }))!;
    checkTcp4(done!, l2);
    const [same] = segments(vnet(done!, { flags: 0, gso: 0, csumStart: 0, csumOffset: 0 }))!;
    assert.deepEqual(same, done);
  });

  it('refuses headers that do not describe their frame, and never throws (property)', () => {
    const frame = superFrame(new Uint8Array(100), 0x10);
    assert.equal(segments(vnet(frame, { flags: 1, gso: 0, csumStart: frame.length, csumOffset: 16 })), null, 'checksum beyond the frame');
    assert.equal(segments(vnet(frame, { flags: 1, gso: 4, gsoSize: 50, csumStart: ETH + 20, csumOffset: 16 })), null, 'TCPv6 on an IPv4 frame');
    assert.equal(segments(vnet(frame, { flags: 1, gso: 1, gsoSize: 8, csumStart: ETH + 20, csumOffset: 16 })), null, 'tiny segments');
    assert.equal(segments(vnet(frame, { flags: 1, gso: 3, gsoSize: 50, csumStart: ETH + 20, csumOffset: 16 })), null, 'UFO');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        const out = segments(junk);
        if (out) for (const s of out) assert.ok(s.length <= Math.max(junk.length * 40, 64));
      }),
      { numRuns: 3000 },
    );
  });
});
