import type { FlowMatch } from '../simulation/flow-match.ts';

interface Entry<V> {
  match: FlowMatch;
  value: V;
}

const mix = (h: number, v: number) => Math.imul(h ^ v, 16777619);

/** Every header field a cached result may depend on; tcpFlags aside (no rule matches on them). */
function sameHeaders(a: FlowMatch, b: FlowMatch): boolean {
  return (
    a.ipSrc === b.ipSrc && a.ipDst === b.ipDst && a.srcPort === b.srcPort && a.dstPort === b.dstPort &&
    a.inPort === b.inPort && a.ethSrc === b.ethSrc && a.ethDst === b.ethDst && a.etherType === b.etherType &&
    a.vlan === b.vlan && a.ipProto === b.ipProto && a.ipTos === b.ipTos && a.ipTtl === b.ipTtl && a.ipFrag === b.ipFrag &&
    a.icmpId === b.icmpId && a.arpOp === b.arpOp && a.icmpData === b.icmpData
  );
}

/**
 * The exact-match cache in front of the wildcard flows: full header match -> result, found by a
 * numeric hash (no key strings) and confirmed field by field.
 */
export class ExactMatchCache<V> {
  private readonly buckets = new Map<number, Entry<V>[]>();
  private readonly ports = new Map<string, number>();
  private count = 0;

  private portIndex(id: string): number {
    let i = this.ports.get(id);
    if (i === undefined) this.ports.set(id, (i = this.ports.size + 1));
    return i;
  }

  private hash(m: FlowMatch): number {
    let h = mix(2166136261, this.portIndex(m.inPort));
    h = mix(h, m.ipSrc);
    h = mix(h, m.ipDst);
    h = mix(h, (m.srcPort << 16) | m.dstPort);
    h = mix(h, (m.ipProto << 16) | m.etherType);
    h = mix(h, m.ethSrc % 0x100000000);
    h = mix(h, m.ethDst % 0x100000000);
    return mix(h, m.icmpId) >>> 0;
  }

  get(m: FlowMatch): V | undefined {
    const list = this.buckets.get(this.hash(m));
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) if (sameHeaders(list[i]!.match, m)) return list[i]!.value;
    return undefined;
  }

  set(m: FlowMatch, value: V): void {
    const h = this.hash(m);
    const list = this.buckets.get(h);
    if (!list) {
      this.buckets.set(h, [{ match: m, value }]);
      this.count++;
      return;
    }
    const hit = list.find((e) => sameHeaders(e.match, m));
    if (hit) hit.value = value;
    else {
      list.push({ match: m, value });
      this.count++;
    }
  }

  delete(m: FlowMatch): boolean {
    const h = this.hash(m);
    const list = this.buckets.get(h);
    const i = list ? list.findIndex((e) => sameHeaders(e.match, m)) : -1;
    if (i < 0) return false;
    list!.splice(i, 1);
    if (list!.length === 0) this.buckets.delete(h);
    this.count--;
    return true;
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.buckets.clear();
    this.count = 0;
  }
}
