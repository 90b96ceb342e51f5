/**
 * One tunnelled copy of a frame for several ports of the same host (a flood): tunnel key type 3
 * (bits 22-20; MidoNet leaves 3-6 unused), the payload a port count, their 24-bit tunnel keys,
 * then the frame. Only our agents send and read it.
 */
export const MULTI_PORT_VNI = 3 << 20;

export function encodeMultiPort(keys: readonly number[], frame: Uint8Array): Uint8Array {
  if (keys.length > 255) throw new RangeError('more than 255 ports in one multi-port packet');
  const out = new Uint8Array(1 + keys.length * 3 + frame.length);
  out[0] = keys.length;
  keys.forEach((k, i) => out.set([(k >>> 16) & 255, (k >>> 8) & 255, k & 255], 1 + i * 3));
  out.set(frame, 1 + keys.length * 3);
  return out;
}

export function decodeMultiPort(payload: Uint8Array): { keys: number[]; frame: Uint8Array } | null {
  const n = payload[0] ?? 0;
  const start = 1 + n * 3;
  if (n === 0 || payload.length < start + 14) return null;
  const keys: number[] = [];
  for (let i = 0; i < n; i++) keys.push((payload[1 + i * 3]! << 16) | (payload[2 + i * 3]! << 8) | payload[3 + i * 3]!);
  return { keys, frame: payload.subarray(start) };
}
