import type { Backend, Entity, Obj, Op } from './backend.ts';
import { BindingIndex, refsOf, type BindingSide } from './bindings.ts';
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
  /** The same entries by type, and the types read whole (once per transaction). */
  private readonly byType = new Map<string, Map<string, Entry>>();
  private readonly loaded = new Set<string>();
  private readonly deleting = new Set<string>();

  constructor(
    private readonly backend: Backend,
    private readonly bindings: BindingIndex,
  ) {}

  private async entry(type: string, id: string): Promise<Entry> {
    const k = key(type, id);
    let e = this.entries.get(k);
    if (!e) {
      const v = await this.backend.read(type, id);
      e = this.entries.get(k) ?? this.remember({ type, id, readVersion: v ? v.version : null, value: v ? v.value : null, dirty: false });
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

  /** Every object of the type as this transaction sees it (copies the caller may change). */
  async getAll<T extends Entity>(type: string): Promise<T[]> {
    return (await this.scan<T>(type)).map((v) => structuredClone(v) as T);
  }

  /**
   * Every object of the type as this transaction sees it, for reading only: the transaction's own
   * values, not copies, so a scan costs no more than a loop (write back a changed copy instead).
   */
  async scan<T extends Entity>(type: string): Promise<readonly Readonly<T>[]> {
    if (!this.loaded.has(type)) {
      const stored = await this.backend.readAll(type);
      if (!this.loaded.has(type)) {
        this.loaded.add(type);
        for (const v of stored) if (!this.entries.has(key(type, v.value.id))) {
          this.remember({ type, id: v.value.id, readVersion: v.version, value: v.value, dirty: false });
        }
      }
    }
    const out: T[] = [];
    for (const e of this.byType.get(type)?.values() ?? []) if (e.value) out.push(e.value as unknown as T);
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

  /** The changes to commit; nothing for objects created and deleted within the transaction. */
  ops(): Op[] {
    const ops: Op[] = [];
    for (const e of this.entries.values()) {
      if (!e.dirty) continue;
      if (e.readVersion === null) {
        if (e.value) ops.push({ kind: 'create', type: e.type, id: e.id, value: e.value });
      } else if (e.value) {
        ops.push({ kind: 'update', type: e.type, id: e.id, value: e.value, version: e.readVersion });
      } else {
        ops.push({ kind: 'delete', type: e.type, id: e.id, version: e.readVersion });
      }
    }
    return ops;
  }
}
