import type { Obj, Op } from './backend.ts';

/**
 * A secondary index over one type: the keys an object is found by. The store writes index entries
 * in the same commit as the objects, so a lookup never needs to read a whole type; a unique index
 * lets only one object hold a key, whoever writes (another transaction, another cluster process).
 */
export interface IndexDef {
  /** Stored name; change it when `keys` changes meaning, so the index is built again. */
  name: string;
  type: string;
  /** Keys made by `indexKey`. */
  keys(obj: Obj): readonly string[];
  unique?: boolean;
}

export type IndexOp = Extract<Op, { kind: 'indexAdd' | 'indexRemove' }>;

/** One level of an index key as a path segment: no '/', never empty, never '.' or '..'. */
const segment = (part: string): string => `k${encodeURIComponent(part).replace(/\./g, '%2E')}`;

/** The part a segment stands for. */
export const partOf = (segment: string): string => decodeURIComponent(segment.slice(1));

/**
 * An index key of one or more levels (a fixed IP is subnet, then address), stored as a path, so
 * the keys below a level can be listed at once (`members`).
 */
export const indexKey = (...parts: string[]): string => parts.map(segment).join('/');

/** The index definitions of a store, by the type they index. */
export class IndexSet {
  private readonly byType = new Map<string, IndexDef[]>();
  private readonly byName = new Map<string, IndexDef>();

  constructor(readonly all: readonly IndexDef[]) {
    for (const d of all) {
      if (this.byName.has(d.name)) throw new Error(`index ${d.name} declared twice`);
      this.byName.set(d.name, d);
      const list = this.byType.get(d.type) ?? [];
      list.push(d);
      this.byType.set(d.type, list);
    }
  }

  of(type: string): readonly IndexDef[] {
    return this.byType.get(type) ?? [];
  }

  get(name: string): IndexDef {
    const d = this.byName.get(name);
    if (!d) throw new Error(`no index ${name}`);
    return d;
  }

  /** The entries to remove and add when an object goes from `before` to `after` (null: absent). */
  diff(type: string, id: string, before: Obj | null, after: Obj | null): { removes: IndexOp[]; adds: IndexOp[] } {
    const removes: IndexOp[] = [];
    const adds: IndexOp[] = [];
    for (const d of this.of(type)) {
      const old = new Set(before ? d.keys(before) : []);
      const now = new Set(after ? d.keys(after) : []);
      const unique = d.unique === true;
      for (const key of old) if (!now.has(key)) removes.push({ kind: 'indexRemove', index: d.name, key, id, unique });
      for (const key of now) if (!old.has(key)) adds.push({ kind: 'indexAdd', index: d.name, key, id, unique });
    }
    return { removes, adds };
  }
}
