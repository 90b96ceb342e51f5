import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeMultiPort, encodeMultiPort } from '../../src/agent/multi-port.ts';

describe('multi-port tunnel payload', () => {
  it('round-trips port keys and the frame, and rejects what is too short', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffffff }), { minLength: 1, maxLength: 20 }), fc.uint8Array({ minLength: 14, maxLength: 100 }), (keys, frame) => {
        const d = decodeMultiPort(encodeMultiPort(keys, frame));
        assert.ok(d);
        assert.deepEqual(d.keys, keys);
        assert.deepEqual([...d.frame], [...frame]);
      }),
    );
    assert.equal(decodeMultiPort(new Uint8Array([3, 0, 0, 1])), null);
    assert.equal(decodeMultiPort(new Uint8Array(0)), null);
  });
});
