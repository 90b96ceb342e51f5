import { createHash } from 'node:crypto';

const masks = new Map<string, Buffer>();

function maskOf(purpose: string): Buffer {
  let m = masks.get(purpose);
  if (!m) masks.set(purpose, (m = createHash('sha1').update(`midonet-neutron/${purpose}`).digest().subarray(0, 16)));
  return m;
}

/**
 * The id of a MidoNet object made for a Neutron object: the Neutron id xor a constant per purpose
 * (as MidoNet's translators do), so updates and deletes find what a create made without storing it.
 */
export function derivedId(id: string, purpose: string): string {
  const bytes = Buffer.from(id.replace(/-/g, ''), 'hex');
  const mask = maskOf(purpose);
  for (let i = 0; i < 16; i++) bytes[i]! ^= mask[i]!;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
