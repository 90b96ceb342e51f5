import { F, FlowMatch, type Rewrites } from '../simulation/flow-match.ts';
import { ExactMatchCache } from './exact-match-cache.ts';

/** What a flow does to a packet: per-output header rewrites. */
export interface FlowActions {
  outputs: { portId: string; rewrites: Rewrites }[];
}

/** A wildcard flow: the fields the simulation read (mask) with their values, actions, tags, timers. */
export interface Flow {
  mask: number;
  match: FlowMatch;
  actions: FlowActions;
  tags: readonly string[];
  created: number;
  lastUsed: number;
  idleMs: number;
  hardMs: number;
  packets: number;
}

const FIELDS: [number, keyof FlowMatch][] = [
  [F.InPort, 'inPort'], [F.EthSrc, 'ethSrc'], [F.EthDst, 'ethDst'], [F.EtherType, 'etherType'], [F.Vlan, 'vlan'],
  [F.IpSrc, 'ipSrc'], [F.IpDst, 'ipDst'], [F.IpProto, 'ipProto'], [F.IpTos, 'ipTos'], [F.IpTtl, 'ipTtl'], [F.IpFrag, 'ipFrag'],
  [F.SrcPort, 'srcPort'], [F.DstPort, 'dstPort'], [F.IcmpId, 'icmpId'], [F.ArpOp, 'arpOp'], [F.IcmpData, 'icmpData'],
];

function covers(flow: Flow, m: FlowMatch): boolean {
  for (const [bit, field] of FIELDS) if (flow.mask & bit && flow.match[field] !== m[field]) return false;
  return true;
}

export interface FlowTableStats {
  flows: number;
  hits: number;
  misses: number;
  invalidated: number;
  expired: number;
  evicted: number;
}

/**
 * Wildcard flows from simulation results, an exact-match cache in front of them, an index from
 * flow tag to flows for invalidation, idle and hard expiry, and a cap with LRU eviction.
 */
export class FlowTable {
  private readonly flows = new Set<Flow>();
  /** Flows grouped by mask: a lookup tests each mask once (megaflow style). */
  private readonly byMask = new Map<number, Flow[]>();
  private readonly byTag = new Map<string, Set<Flow>>();
  private readonly exact = new ExactMatchCache<Flow>();
  readonly stats: FlowTableStats = { flows: 0, hits: 0, misses: 0, invalidated: 0, expired: 0, evicted: 0 };
  /** Told of every flow that leaves the table, whatever the reason (the kernel's copies go too). */
  onRemove: (flow: Flow) => void = () => undefined;
  /** When a flow was last used where the table does not see it (the kernel), ms; null: not there. */
  usedElsewhere: (flow: Flow) => number | null = () => null;

  /** The cap on flows (agent.datapath.max_flow_count); lowering it evicts on the next install. */
  constructor(public maxFlows = 100_000) {}

  lookup(m: FlowMatch, now: number): Flow | null {
    let f = this.exact.get(m) ?? null;
    if (f && !this.flows.has(f)) {
      this.exact.delete(m);
      f = null;
    }
    if (!f) {
      for (const list of this.byMask.values()) {
        for (const cand of list) if (covers(cand, m)) {
          f = cand;
          break;
        }
        if (f) break;
      }
      if (f) {
        // Entries of removed flows stay until looked up: bound them by clearing now and then.
        if (this.exact.size >= 2 * this.maxFlows) this.exact.clear();
        this.exact.set(m.clone(), f);
      }
    }
    if (!f) {
      this.stats.misses++;
      return null;
    }
    f.lastUsed = now;
    f.packets++;
    this.stats.hits++;
    return f;
  }

  /** Counts a hit on a flow found by a cache in front of the table; false once the flow is gone. */
  touch(flow: Flow, now: number): boolean {
    if (!this.flows.has(flow)) return false;
    flow.lastUsed = now;
    flow.packets++;
    this.stats.hits++;
    return true;
  }

  install(flow: Flow): void {
    while (this.flows.size >= this.maxFlows && this.flows.size > 0) this.evictOldest();
    this.flows.add(flow);
    let list = this.byMask.get(flow.mask);
    if (!list) this.byMask.set(flow.mask, (list = []));
    list.push(flow);
    for (const t of flow.tags) {
      let s = this.byTag.get(t);
      if (!s) this.byTag.set(t, (s = new Set()));
      s.add(flow);
    }
    this.stats.flows = this.flows.size;
  }

  private remove(flow: Flow): void {
    if (!this.flows.delete(flow)) return;
    this.onRemove(flow);
    const list = this.byMask.get(flow.mask);
    if (list) {
      const i = list.indexOf(flow);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byMask.delete(flow.mask);
    }
    for (const t of flow.tags) {
      const s = this.byTag.get(t);
      s?.delete(flow);
      if (s && s.size === 0) this.byTag.delete(t);
    }
    this.stats.flows = this.flows.size;
  }

  /**
   * Removes every flow carrying the tag; returns how many. The exact-match entries of other flows
   * stay: a lookup finds out by itself that an entry's flow is gone.
   */
  invalidate(tag: string): number {
    const s = this.byTag.get(tag);
    if (!s) return 0;
    const n = s.size;
    for (const f of [...s]) this.remove(f);
    this.stats.invalidated += n;
    return n;
  }

  /** Whether some flow carries the tag (its device is in use). */
  hasTag(tag: string): boolean {
    return this.byTag.has(tag);
  }

  invalidateAll(): void {
    for (const f of [...this.flows]) this.remove(f);
    this.exact.clear();
  }

  /** Drops flows idle or older than their timeouts. */
  expire(now: number): number {
    let n = 0;
    for (const f of [...this.flows]) {
      if (now - f.created < f.hardMs && now - f.lastUsed >= f.idleMs) {
        const elsewhere = this.usedElsewhere(f);
        if (elsewhere !== null && elsewhere > f.lastUsed) f.lastUsed = elsewhere;
      }
      if (now - f.lastUsed >= f.idleMs || now - f.created >= f.hardMs) {
        this.remove(f);
        n++;
      }
    }
    this.stats.expired += n;
    return n;
  }

  private evictOldest(): void {
    let oldest: Flow | null = null;
    for (const f of this.flows) if (!oldest || f.lastUsed < oldest.lastUsed) oldest = f;
    if (oldest) {
      this.remove(oldest);
      this.exact.clear();
      this.stats.evicted++;
    }
  }

  get size(): number {
    return this.flows.size;
  }
}
