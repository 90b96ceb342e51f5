import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExactMatchCache } from '../../src/agent/exact-match-cache.ts';
import { FlowMatch } from '../../src/simulation/flow-match.ts';

const match = fc
  .record({ inPort: fc.constantFrom('a', 'b'), ipSrc: fc.integer({ min: 0, max: 3 }), ipDst: fc.integer({ min: 0, max: 3 }), srcPort: fc.integer({ min: 0, max: 3 }), ipTtl: fc.integer({ min: 63, max: 64 }) })
  .map((f) => Object.assign(new FlowMatch(), f));
const keyOf = (m: FlowMatch) => `${m.inPort}|${m.ipSrc}|${m.ipDst}|${m.srcPort}|${m.ipTtl}`;

describe('exact-match cache', () => {
  it('behaves as a map keyed by every header field (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'get', 'delete'), match, fc.nat()), { maxLength: 200 }), (ops) => {
        const cache = new ExactMatchCache<number>();
        const model = new Map<string, number>();
        for (const [op, m, v] of ops) {
          if (op === 'set') {
            cache.set(m, v);
            model.set(keyOf(m), v);
          } else if (op === 'delete') assert.equal(cache.delete(m), model.delete(keyOf(m)));
          else assert.equal(cache.get(m.clone()), model.get(keyOf(m)));
          assert.equal(cache.size, model.size);
        }
      }),
    );
  });
});
