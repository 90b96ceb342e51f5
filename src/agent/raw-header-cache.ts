/**
 * The first cache a frame meets: its raw header bytes (in port, MACs, IPv4 addresses, TOS, TTL,
 * protocol, ports or ICMP echo type and id) -> a flow with one output that at most rewrites the
 * MACs and the TTL (bridged and routed traffic; NAT takes the parsed path). A hit needs no parse
 * and no match: the bytes are patched in a copy, or go out as they came. Frames it cannot key
 * safely (VLAN tags, IP options, fragments, ICMP errors, non-IPv4) take the parsed path.
 */
import { onesSum } from '../packets/bytes.ts';
import type { Rewrites } from '../simulation/flow-match.ts';
import type { Flow } from './flow-table.ts';

const ETH_IPV4 = 0x0800;
/** The rewrites a patch of header bytes can make. */
const PATCHABLE = new Set(['ethSrc', 'ethDst', 'ipTtl']);

export interface RawEntry {
  flow: Flow;
  /** Null: the frame goes out as it came. */
  patch: Rewrites | null;
}

function writeMac(b: Uint8Array, at: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  b[at] = hi >>> 8;
  b[at + 1] = hi & 0xff;
  b[at + 2] = mac >>> 24;
  b[at + 3] = (mac >>> 16) & 0xff;
  b[at + 4] = (mac >>> 8) & 0xff;
  b[at + 5] = mac & 0xff;
}

/**
 * The rewrites of a flow with one output when they are all `allowed` (null: none); undefined when
 * the flow does more (several outputs, other rewrites).
 */
export function rewritesWithin(flow: Flow, allowed: ReadonlySet<string>): Rewrites | null | undefined {
  const outputs = flow.actions.outputs;
  if (outputs.length !== 1) return undefined;
  const r = outputs[0]!.rewrites;
  let patch: Rewrites | null = null;
  for (const k in r) {
    if (!allowed.has(k)) return undefined;
    patch = r;
  }
  return patch;
}

export class RawHeaderCache {
  private readonly entries = new Map<string, RawEntry>();
  private readonly ports = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  private portIndex(id: string): number {
    let i = this.ports.get(id);
    if (i === undefined) this.ports.set(id, (i = this.ports.size + 1));
    return i;
  }

  /** The frame's key, or null when only the parsed path may decide for it. */
  key(portId: string, b: Uint8Array): string | null {
    if (b.length < 42 || ((b[12]! << 8) | b[13]!) !== ETH_IPV4 || b[14] !== 0x45 || (b[20]! & 0x3f) !== 0 || b[21] !== 0) return null;
    const proto = b[23]!;
    let l4a: number;
    let l4b: number;
    if (proto === 6 || proto === 17) {
      l4a = (b[34]! << 8) | b[35]!;
      l4b = (b[36]! << 8) | b[37]!;
    } else if (proto === 1 && (b[34] === 8 || b[34] === 0)) {
      l4a = (b[34]! << 8) | b[35]!;
      l4b = (b[38]! << 8) | b[39]!;
    } else return null;
    return String.fromCharCode(
      this.portIndex(portId),
      (b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!, (b[4]! << 8) | b[5]!,
      (b[6]! << 8) | b[7]!, (b[8]! << 8) | b[9]!, (b[10]! << 8) | b[11]!,
      (b[15]! << 8) | b[22]!, proto,
      (b[26]! << 8) | b[27]!, (b[28]! << 8) | b[29]!, (b[30]! << 8) | b[31]!, (b[32]! << 8) | b[33]!,
      l4a, l4b,
    );
  }

  get(key: string): RawEntry | undefined {
    return this.entries.get(key);
  }

  /** The frame as the entry's flow sends it. */
  apply(e: RawEntry, bytes: Uint8Array): Uint8Array {
    const r = e.patch;
    if (r === null) return bytes;
    const out = bytes.slice();
    if (r.ethDst !== undefined) writeMac(out, 0, r.ethDst);
    if (r.ethSrc !== undefined) writeMac(out, 6, r.ethSrc);
    if (r.ipTtl !== undefined) {
      out[22] = r.ipTtl;
      out[24] = 0;
      out[25] = 0;
      const sum = ~onesSum(out.subarray(14, 34)) & 0xffff;
      out[24] = sum >>> 8;
      out[25] = sum & 0xff;
    }
    return out;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Remembers a flow for frames with this key, if it has one output and a patch can do its rewrites; says whether it did. */
  remember(key: string, flow: Flow): boolean {
    const patch = rewritesWithin(flow, PATCHABLE);
    if (patch === undefined) return false;
    // Entries of dead flows are dropped as they are met; a full cache starts again.
    if (this.entries.size >= this.capacity) this.entries.clear();
    this.entries.set(key, { flow, patch });
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}
