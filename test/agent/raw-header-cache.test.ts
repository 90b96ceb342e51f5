import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Flow } from '../../src/agent/flow-table.ts';
import { RawHeaderCache } from '../../src/agent/raw-header-cache.ts';
import { applyRewrites } from '../../src/agent/rewrite.ts';
import { buildEthernet, parseEthernet } from '../../src/packets/ethernet.ts';
import type { Ethernet, Ipv4 } from '../../src/packets/types.ts';
import { matchOf } from '../../src/simulation/packet-match.ts';

const small = (n: number) => fc.integer({ min: 1, max: n });

/** Frames over small domains (so keys collide often), varying also what a key must leave out. */
const frame = fc
  .record({
    src: small(2), dst: small(2), ipSrc: small(2), ipDst: small(2), tos: fc.constantFrom(0, 4), ttl: fc.constantFrom(63, 64),
    proto: fc.constantFrom(1, 6, 17), sport: small(2), dport: small(2), icmpType: fc.constantFrom(0, 8, 3), id: fc.nat(0xffff),
    seq: fc.nat(), mf: fc.boolean(), vlan: fc.boolean(), payload: fc.uint8Array({ maxLength: 8 }),
  })
  .map((f): Ethernet => {
    const l4: Ipv4['payload'] =
      f.proto === 6 ? { kind: 'tcp', srcPort: f.sport, dstPort: f.dport, seq: f.seq, ack: 0, flags: 0x10, window: 1000, urgent: 0, options: new Uint8Array(0), payload: f.payload }
        : f.proto === 17 ? { kind: 'udp', srcPort: f.sport, dstPort: f.dport, payload: f.payload }
          : { kind: 'icmp', type: f.icmpType, code: 0, rest: (f.sport << 16) | (f.seq & 0xffff), data: f.payload };
    return {
      dst: f.dst, src: f.src, vlans: f.vlan ? [5] : [], etherType: 0x0800,
      payload: { kind: 'ipv4', tos: f.tos, id: f.id, df: false, mf: f.mf, fragOffset: 0, ttl: f.ttl, protocol: f.proto, src: f.ipSrc, dst: f.ipDst, options: new Uint8Array(0), payload: l4 },
    };
  });

/** Every header field a flow may depend on, as the simulation reads it. */
const headers = (b: Uint8Array, port: string) => {
  const parsed = parseEthernet(b);
  assert.ok(parsed.ok);
  const m = matchOf(parsed.value, port);
  return JSON.stringify([m.inPort, m.ethSrc, m.ethDst, m.etherType, m.vlan, m.ipSrc, m.ipDst, m.ipProto, m.ipTos, m.ipTtl, m.ipFrag, m.srcPort, m.dstPort, m.icmpId, m.icmpData === null]);
};

describe('raw-header cache', () => {
  it('patches MACs and TTL exactly as rebuilding the rewritten frame does (property)', () => {
    const cache = new RawHeaderCache(100);
    const rewrites = fc.record({ ethSrc: fc.integer({ min: 0, max: 0xffffffffffff }), ethDst: fc.integer({ min: 0, max: 0xffffffffffff }), ipTtl: fc.integer({ min: 1, max: 255 }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(frame, rewrites, (f, r) => {
        const bytes = buildEthernet(f);
        const key = cache.key('p', bytes);
        if (key === null) return;
        cache.remember(key, { actions: { outputs: [{ portId: 'out', rewrites: r }] } } as unknown as Flow);
        const e = cache.get(key)!;
        assert.deepEqual(cache.apply(e, bytes), buildEthernet(applyRewrites(f, r)));
        assert.equal(e.patch === null, Object.keys(r).length === 0, 'no rewrite: the bytes go as they came');
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps no entry for flows it cannot patch (NAT, several outputs)', () => {
    const cache = new RawHeaderCache(100);
    cache.remember('k1', { actions: { outputs: [{ portId: 'out', rewrites: { ipSrc: 1 } }] } } as unknown as Flow);
    cache.remember('k2', { actions: { outputs: [{ portId: 'a', rewrites: {} }, { portId: 'b', rewrites: {} }] } } as unknown as Flow);
    assert.equal(cache.size, 0);
  });

  it('gives two frames one key only when every header a flow may read is the same (property)', () => {
    const cache = new RawHeaderCache(100);
    fc.assert(
      fc.property(frame, frame, fc.constantFrom('p1', 'p2'), fc.constantFrom('p1', 'p2'), (a, b, pa, pb) => {
        const [ba, bb] = [buildEthernet(a), buildEthernet(b)];
        const [ka, kb] = [cache.key(pa, ba), cache.key(pb, bb)];
        if (ka !== null && ka === kb) assert.equal(headers(ba, pa), headers(bb, pb));
        const ip = a.payload as Ipv4;
        if (a.vlans.length > 0 || ip.mf || (ip.payload.kind === 'icmp' && ip.payload.type === 3)) assert.equal(ka, null, 'tags, fragments and ICMP errors take the parsed path');
      }),
      { numRuns: 3000 },
    );
  });
});
