/** Bounds-checked reading and writing of network byte order, for the codecs. */

/** A frame that cannot be parsed; `reason` says why. Never escapes the top-level parsers. */
export class MalformedPacket extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private pos = 0,
    private readonly end = bytes.length,
    /** A view over `bytes` to share (sub-readers reuse their parent's: one per frame is enough). */
    view?: DataView,
  ) {
    this.view = view ?? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new MalformedPacket(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** A 48-bit MAC address as a number. */
  mac(what: string): number {
    this.need(6, what);
    const v = this.view.getUint16(this.pos) * 0x100000000 + this.view.getUint32(this.pos + 2);
    this.pos += 6;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Uint8Array {
    return this.take(this.end - this.pos, 'rest');
  }

  /** A reader over the next n bytes; this reader skips them. */
  sub(n: number, what: string): Reader {
    this.need(n, what);
    const r = new Reader(this.bytes, this.pos, this.pos + n, this.view);
    this.pos += n;
    return r;
  }
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.pos++, v & 0xff);
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v & 0xffff);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  mac(v: number): this {
    this.ensure(6);
    this.view.setUint16(this.pos, Math.floor(v / 0x100000000));
    this.view.setUint32(this.pos + 2, v % 0x100000000);
    this.pos += 6;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v & 0xffff);
  }

  slice(from = 0, to = this.pos): Uint8Array {
    return this.buf.subarray(from, to);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** RFC 1071 ones'-complement sum, folded, not inverted. */
export function onesSum(b: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = b.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export const checksum = (b: Uint8Array, initial = 0): number => ~onesSum(b, initial) & 0xffff;

export function macToString(m: number): string {
  return m.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

export function macFromString(s: string): number {
  return parseInt(s.replace(/[:-]/g, ''), 16);
}

export const BROADCAST_MAC = 0xffffffffffff;

/** A big-endian 32-bit value (an IPv4 address) at `at`, read straight from a frame. */
export const readU32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
export const isMulticastMac = (m: number): boolean => Math.floor(m / 0x10000000000) % 2 === 1;
