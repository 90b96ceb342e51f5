import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildDhcp, parseDhcp, type Dhcp } from '../../src/packets/dhcp.ts';
import { buildEthernet, parseEthernet } from '../../src/packets/ethernet.ts';
import { buildVxlan, parseVxlan } from '../../src/packets/vxlan.ts';
import { bytes, ethernet, mac, u16, u32, u8 } from '../helpers/arbitraries.ts';

/** Drops what parsing reports but building recomputes (checksums, lengths). */
function logical(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(logical);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'checksum' && k !== 'totalLength').map(([k, v]) => [k, logical(v)]));
  }
  return x;
}

describe('packet codecs', () => {
  it('parse(build(frame)) gives the frame back (property)', () => {
    fc.assert(
      fc.property(ethernet, (e) => {
        const parsed = parseEthernet(buildEthernet(e));
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
        assert.deepEqual(logical(parsed.value), logical(e));
      }),
      { numRuns: 1000 },
    );
  });

  it('DHCP and VXLAN round-trip (property)', () => {
    const dhcp: fc.Arbitrary<Dhcp> = fc.record({
      op: fc.constantFrom(1, 2), htype: fc.constant(1), hlen: fc.constant(6), hops: u8, xid: u32, secs: u16, flags: u16,
      ciaddr: u32, yiaddr: u32, siaddr: u32, giaddr: u32, chaddr: mac,
      options: fc.array(fc.record({ code: fc.integer({ min: 1, max: 254 }), data: bytes(40) }), { maxLength: 8 }),
    });
    fc.assert(
      fc.property(dhcp, (d) => {
        const p = parseDhcp(buildDhcp(d));
        assert.ok(p.ok);
        assert.deepEqual(logical(p.value), logical(d));
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffff }), ethernet, (vni, inner) => {
        const p = parseVxlan(buildVxlan({ vni, inner }));
        assert.ok(p.ok);
        assert.equal(p.value.vni, vni);
        assert.deepEqual(logical(p.value.inner), logical(inner));
      }),
      { numRuns: 200 },
    );
  });

  it('computes checksums that verify, and rejects a corrupted IPv4 header', () => {
    const frame = buildEthernet({
      dst: 1, src: 2, vlans: [], etherType: 0x0800,
      payload: { kind: 'ipv4', tos: 0, id: 1, df: true, mf: false, fragOffset: 0, ttl: 64, protocol: 17, src: 0x0a000001, dst: 0x0a000002, options: new Uint8Array(0), payload: { kind: 'udp', srcPort: 1, dstPort: 2, payload: new Uint8Array([1, 2, 3]) } },
    });
    const parsed = parseEthernet(frame);
    assert.ok(parsed.ok && parsed.value.payload.kind === 'ipv4' && parsed.value.payload.payload.kind === 'udp');
    assert.notEqual(parsed.value.payload.payload.checksum, 0);
    frame[14 + 8] = 1; // TTL changed, checksum not
    const bad = parseEthernet(frame);
    assert.ok(!bad.ok && /checksum/.test(bad.reason));
  });

  it('rejects truncated and hostile frames with a reason, never an exception (property)', () => {
    fc.assert(
      fc.property(ethernet, fc.nat(), (e, cut) => {
        const full = buildEthernet(e);
        const r = parseEthernet(full.subarray(0, cut % (full.length + 1)));
        if (!r.ok) assert.equal(typeof r.reason, 'string');
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(bytes(200), (b) => void parseEthernet(b)), { numRuns: 2000 });
    const short = parseEthernet(new Uint8Array([1, 2, 3]));
    assert.ok(!short.ok && /truncated/.test(short.reason));
  });
});
