import { maskOf } from '../model/net.ts';
import { F, type FlowMatch } from './flow-match.ts';

export type RouteKind = 'Normal' | 'BlackHole' | 'Reject' | 'Local' | 'Fip64';

export interface SimRoute {
  id: string;
  src: number;
  srcLen: number;
  dst: number;
  dstLen: number;
  kind: RouteKind;
  portId: string | null;
  /** 0 when the next hop is the destination itself. */
  gateway: number;
  weight: number;
}

/**
 * A router's routes indexed by destination prefix length: lookup walks the lengths from longest
 * to shortest and stops at the first that has routes matching both destination and source; among
 * those the lowest weight wins, and equal weights share the traffic by a hash of the flow (ECMP).
 */
export class RoutingTable {
  /** byLen[len]: network address -> routes with that destination prefix. */
  private readonly byLen: (Map<number, SimRoute[]> | undefined)[] = new Array(33);
  private readonly lengths: number[];

  constructor(readonly routes: readonly SimRoute[]) {
    for (const r of routes) {
      const key = (r.dst & maskOf(r.dstLen)) >>> 0;
      const m = (this.byLen[r.dstLen] ??= new Map());
      const list = m.get(key);
      if (list) list.push(r);
      else m.set(key, [r]);
    }
    this.lengths = [];
    for (let len = 32; len >= 0; len--) if (this.byLen[len]) this.lengths.push(len);
  }

  /** The best routes for (src, dst): the longest destination prefix, then the lowest weight. */
  candidates(src: number, dst: number): SimRoute[] {
    for (const len of this.lengths) {
      const list = this.byLen[len]!.get((dst & maskOf(len)) >>> 0);
      if (!list) continue;
      if (list.length === 1) {
        const r = list[0]!;
        if (((src & maskOf(r.srcLen)) >>> 0) === ((r.src & maskOf(r.srcLen)) >>> 0)) return list;
        continue;
      }
      let best: SimRoute[] = [];
      let bestWeight = Infinity;
      for (const r of list) {
        if (((src & maskOf(r.srcLen)) >>> 0) !== ((r.src & maskOf(r.srcLen)) >>> 0)) continue;
        if (r.weight < bestWeight) {
          best = [r];
          bestWeight = r.weight;
        } else if (r.weight === bestWeight) best.push(r);
      }
      if (best.length > 0) return best;
    }
    return [];
  }

  /** The route this flow takes; ECMP choice keyed on the 5-tuple so a flow stays on one path. */
  lookup(m: FlowMatch, seen: { seen: number }): SimRoute | null {
    seen.seen |= F.IpSrc | F.IpDst;
    const c = this.candidates(m.ipSrc, m.ipDst);
    if (c.length === 0) return null;
    if (c.length === 1) return c[0]!;
    seen.seen |= F.IpProto | F.SrcPort | F.DstPort;
    return c[flowHash(m) % c.length]!;
  }
}

/** A cheap, stable hash of the 5-tuple. */
export function flowHash(m: FlowMatch): number {
  let h = Math.imul(2166136261 ^ m.ipSrc, 16777619);
  h = Math.imul(h ^ m.ipDst, 16777619);
  h = Math.imul(h ^ m.ipProto, 16777619);
  h = Math.imul(h ^ m.tpKeySrc, 16777619);
  return Math.imul(h ^ m.tpKeyDst, 16777619) >>> 0;
}
