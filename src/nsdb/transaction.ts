import type { Backend, Entity, Obj, Op, StateKey } from './backend.ts';
import { BindingIndex, refsOf, type BindingSide } from './bindings.ts';
import { partOf, type IndexOp, type IndexSet } from './indexes.ts';
import {
  NotFoundError,
  ObjectExistsError,
  ObjectReferencedError,
  ReferenceConflictError,
} from './errors.ts';

interface Entry {
  type: string;
  id: string;
  /** Version read from the backend; null when the object did not exist. */
  readVersion: number | null;
  /** The value as read, for the index entries to change on commit. */
  readValue: Obj | null;
  value: Obj | null;
  dirty: boolean;
}

const key = (type: string, id: string) => `${type}/${id}`;

/**
 * A buffered multi-object write. Reads go through a cache so that the transaction sees its own
 * writes; bindings are applied as objects are created, updated and deleted; commit sends every
 * change at once with the versions read, so a concurrent writer makes the whole commit fail.
 */
export class Transaction {
  private readonly entries = new Map<string, Entry>();
  /** The same entries by type. */
  private readonly byType = new Map<string, Map<string, Entry>>();
  /** State keys to write with the objects: the last value asked for each (null deletes). */
  private readonly states = new Map<string, { key: StateKey; value: string | null }>();
  private readonly deleting = new Set<string>();

  constructor(
    private readonly backend: Backend,
    private readonly bindings: BindingIndex,
    private readonly indexes: IndexSet,
  ) {}

  private async entry(type: string, id: string): Promise<Entry> {
    const k = key(type, id);
    let e = this.entries.get(k);
    if (!e) {
      const v = await this.backend.read(type, id);
      e = this.entries.get(k) ?? this.remember({ type, id, readVersion: v ? v.version : null, readValue: v ? v.value : null, value: v ? v.value : null, dirty: false });
    }
    return e;
  }

  private remember(e: Entry): Entry {
    this.entries.set(key(e.type, e.id), e);
    let m = this.byType.get(e.type);
    if (!m) this.byType.set(e.type, (m = new Map()));
    m.set(e.id, e);
    return e;
  }

  async tryGet<T extends Entity>(type: string, id: string): Promise<T | null> {
    const e = await this.entry(type, id);
    return e.value ? (structuredClone(e.value) as T) : null;
  }

  async get<T extends Entity>(type: string, id: string): Promise<T> {
    const v = await this.tryGet<T>(type, id);
    if (!v) throw new NotFoundError(type, id);
    return v;
  }

  async exists(type: string, id: string): Promise<boolean> {
    return (await this.entry(type, id)).value !== null;
  }

  /**
   * The ids holding `key` in an index as this transaction sees it: what is committed, with this
   * transaction's own writes applied.
   */
  async lookup(index: string, key: string): Promise<string[]> {
    const def = this.indexes.get(index);
    const ids = new Set(await this.backend.lookup(index, key, def.unique === true));
    for (const e of this.byType.get(def.type)?.values() ?? []) {
      if (!e.dirty) continue;
      if (e.value && def.keys(e.value).includes(key)) ids.add(e.id);
      else ids.delete(e.id);
    }
    return [...ids];
  }

  /** The last parts of the keys below `prefix` in a unique index, as this transaction sees them. */
  async members(index: string, prefix: string): Promise<Set<string>> {
    const def = this.indexes.get(index);
    const out = new Set(await this.backend.members(index, prefix));
    const below = (k: string) => (k.startsWith(`${prefix}/`) && !k.slice(prefix.length + 1).includes('/') ? partOf(k.slice(prefix.length + 1)) : null);
    for (const e of this.byType.get(def.type)?.values() ?? []) {
      if (!e.dirty) continue;
      const now = e.value ? def.keys(e.value) : [];
      for (const k of e.readValue ? def.keys(e.readValue) : []) if (!now.includes(k)) {
        const m = below(k);
        if (m !== null) out.delete(m);
      }
      for (const k of now) {
        const m = below(k);
        if (m !== null) out.add(m);
      }
    }
    return out;
  }

  /** The objects holding `key` in an index, as this transaction sees them: its own values, for reading only. */
  async find<T extends Entity>(index: string, key: string): Promise<readonly Readonly<T>[]> {
    const type = this.indexes.get(index).type;
    const entries = await Promise.all((await this.lookup(index, key)).map((id) => this.entry(type, id)));
    const out: T[] = [];
    for (const e of entries) if (e.value) out.push(e.value as unknown as T);
    return out;
  }

  private put(e: Entry, value: Obj | null): void {
    e.value = value;
    e.dirty = true;
  }

  async create<E extends Entity>(type: string, entity: E): Promise<void> {
    const value = entity as Obj;
    const e = await this.entry(type, value.id);
    if (e.value) throw new ObjectExistsError(type, value.id);
    // Made again after a delete in this transaction: a live object again, so others may bind to it.
    this.deleting.delete(key(type, value.id));
    const obj = structuredClone(value);
    this.put(e, obj);
    for (const f of this.bindings.fieldsOf(type)) {
      for (const ref of refsOf(obj, f.field)) await this.bind(type, obj.id, f.other, ref);
    }
  }

  async update<E extends Entity>(type: string, entity: E): Promise<void> {
    const value = entity as Obj;
    const e = await this.entry(type, value.id);
    if (!e.value) throw new NotFoundError(type, value.id);
    const old = e.value;
    const obj = structuredClone(value);
    this.put(e, obj);
    for (const f of this.bindings.fieldsOf(type)) {
      const before = new Set(refsOf(old, f.field));
      const after = new Set(refsOf(obj, f.field));
      for (const ref of before) if (!after.has(ref)) await this.unbind(type, obj.id, f.other, ref);
      for (const ref of after) if (!before.has(ref)) await this.bind(type, obj.id, f.other, ref);
    }
  }

  async delete(type: string, id: string, ignoreMissing = false): Promise<void> {
    const k = key(type, id);
    if (this.deleting.has(k)) return;
    const e = await this.entry(type, id);
    if (!e.value) {
      if (ignoreMissing) return;
      throw new NotFoundError(type, id);
    }
    const obj = e.value;
    const fields = this.bindings.fieldsOf(type);
    for (const f of fields) if (f.onDelete === 'error') {
      for (const ref of refsOf(obj, f.field)) {
        if (await this.exists(f.other.type, ref)) throw new ObjectReferencedError(type, id, f.other.type, ref);
      }
    }
    this.deleting.add(k);
    this.put(e, null);
    for (const f of fields) {
      for (const ref of refsOf(obj, f.field)) {
        if (f.onDelete === 'cascade') await this.delete(f.other.type, ref, true);
        else await this.unbind(type, id, f.other, ref);
      }
    }
  }

  /** Writes a state key no session owns in the same commit as the objects. */
  setState(key: StateKey, value: string): void {
    this.states.set(`${key.type}/${key.id}/${key.key}`, { key, value });
  }

  deleteState(key: StateKey): void {
    this.states.set(`${key.type}/${key.id}/${key.key}`, { key, value: null });
  }

  /** Makes `target` (on the far side) point back at (type, id). */
  private async bind(type: string, id: string, side: BindingSide, target: string): Promise<void> {
    const e = await this.entry(side.type, target);
    if (!e.value || this.deleting.has(key(side.type, target))) throw new NotFoundError(side.type, target);
    const obj = { ...e.value };
    if (side.list) {
      const ids = refsOf(obj, side.field);
      if (ids.includes(id)) return;
      obj[side.field] = [...ids, id];
    } else {
      const cur = obj[side.field];
      if (cur === id) return;
      if (typeof cur === 'string') throw new ReferenceConflictError(side.type, target, side.field, cur);
      obj[side.field] = id;
    }
    this.put(e, obj);
  }

  private async unbind(type: string, id: string, side: BindingSide, target: string): Promise<void> {
    if (this.deleting.has(key(side.type, target))) return;
    const e = await this.entry(side.type, target);
    if (!e.value) return;
    const obj = { ...e.value };
    if (side.list) {
      const ids = refsOf(obj, side.field);
      if (!ids.includes(id)) return;
      obj[side.field] = ids.filter((x) => x !== id);
    } else {
      if (obj[side.field] !== id) return;
      obj[side.field] = null;
    }
    this.put(e, obj);
  }

  /**
   * The changes to commit; nothing for objects created and deleted within the transaction. Index
   * entries that go come first and those that arrive last, so a key may move between objects.
   */
  ops(): Op[] {
    const ops: Op[] = [];
    const removes: IndexOp[] = [];
    const adds: IndexOp[] = [];
    for (const e of this.entries.values()) {
      if (!e.dirty) continue;
      const d = this.indexes.diff(e.type, e.id, e.readValue, e.value);
      removes.push(...d.removes);
      adds.push(...d.adds);
      if (e.readVersion === null) {
        if (e.value) ops.push({ kind: 'create', type: e.type, id: e.id, value: e.value });
      } else if (e.value) {
        ops.push({ kind: 'update', type: e.type, id: e.id, value: e.value, version: e.readVersion });
      } else {
        ops.push({ kind: 'delete', type: e.type, id: e.id, version: e.readVersion });
      }
    }
    const states: Op[] = [...this.states.values()].map(({ key: k, value }) => (value === null ? { kind: 'deleteState', key: k } : { kind: 'setState', key: k, value }));
    return [...removes, ...ops, ...adds, ...states];
  }
}
