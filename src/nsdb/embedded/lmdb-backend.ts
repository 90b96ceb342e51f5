import { ABORT, open, type RootDatabase } from 'lmdb';
import type { Backend, Change, Obj, Op, StateKey, Unsubscribe, Versioned } from '../backend.ts';
import { ConcurrentModificationError, NotFoundError, ObjectExistsError, StorageFullError, UniqueViolationError } from '../errors.ts';
import { partOf } from '../indexes.ts';
import { Listeners, monotonic } from '../watchers.ts';

const modelKey = (type: string, id: string) => `m/${type}/${id}`;

/**
 * A write LMDB could not put on disk (a full disk, an I/O error) as StorageFullError. LMDB's
 * error carries a second promise with the cause; it is awaited briefly so the message can say
 * which, and handled, so it never becomes an unhandled rejection that would end the process.
 */
async function written<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const cause = (err as { commitError?: Promise<unknown> }).commitError;
    if (!cause) throw err;
    const why = await Promise.race([cause.then(() => null, (e: unknown) => e), new Promise((r) => setTimeout(() => r(null), 200))]);
    const code = (why as { code?: unknown } | null)?.code;
    const reason = code === 28 ? 'the disk is full' : code === 5 ? 'an I/O error (is the disk full?)' : 'the write failed';
    throw new StorageFullError(`The NSDB could not write to its data directory: ${reason}. Nothing was changed; free space and try again.`);
  }
}
const stateKey = (k: StateKey) => `s/${k.type}/${k.id}/${k.key}`;
/** A unique index key holds its object's id; a shared one has an entry per object below it. */
const indexKey = (index: string, key: string) => `x/${index}/${key}`;

/**
 * Single-node NSDB in an LMDB file. Every commit is one LMDB write transaction whose promise
 * resolves only once it is on disk, so an answered API call survives `kill -9`. Versions come from
 * one global commit counter, which keeps them increasing across delete and re-create.
 * Session-owned state keys live in memory only: they die with the process, as their session does.
 */
export class LmdbBackend implements Backend {
  readonly name = 'embedded' as const;
  readonly available = true;
  private readonly db: RootDatabase;
  private commitSeq: number;
  private nextToDeliver: number;
  private readonly ready = new Map<number, Change[]>();
  private readonly objectListeners = new Listeners<[Change, number]>();
  private readonly typeListeners = new Listeners<[Change, number]>();
  private readonly stateListeners = new Listeners<string | null>();
  /** Listeners of a state directory, keyed by its path: each hears (child name, value). */
  private readonly dirListeners = new Listeners<[string, string | null]>();
  private readonly ephemeral = new Map<string, { value: string; owner: string }>();

  constructor(path: string) {
    // Records share their field names (msgpack structures kept in the store): a rule is its values, not 60 names again.
    // One mapping big enough for the store's life: growing one maps the file again and keeps the old
    // mappings, which counts its pages once per mapping. Address space only; the file grows as written.
    this.db = open({ path, useVersions: true, compression: false, sharedStructuresKey: Symbol.for('structures'), mapSize: 16 * 1024 ** 3 });
    this.commitSeq = (this.db.get('q/commit') as number | undefined) ?? 0;
    this.nextToDeliver = this.commitSeq + 1;
  }

  async read(type: string, id: string): Promise<Versioned | null> {
    return this.readSync(type, id);
  }

  private readSync(type: string, id: string): Versioned | null {
    const e = this.db.getEntry(modelKey(type, id));
    return e ? { value: e.value as Obj, version: e.version ?? 0 } : null;
  }

  async readAll(type: string): Promise<Versioned[]> {
    return this.readAllSync(type);
  }

  private readAllSync(type: string): Versioned[] {
    const out: Versioned[] = [];
    for (const { value, version } of this.db.getRange({ start: `m/${type}/`, end: `m/${type}0`, versions: true })) {
      out.push({ value: value as Obj, version: version ?? 0 });
    }
    return out;
  }

  async commit(ops: Op[]): Promise<void> {
    let failure: Error | null = null;
    let seq = 0;
    const changes: Change[] = [];
    const result = await written(this.db.transaction(() => {
      // All checks first: LMDB keeps writes made before a throw, so we only abort by ABORT.
      for (const op of ops) {
        if (op.kind === 'indexRemove' || op.kind === 'indexAdd') {
          if (op.kind === 'indexAdd' && op.unique) {
            const holder = this.db.get(indexKey(op.index, op.key)) as string | undefined;
            // Held by an object this commit releases the key of: removals run first.
            const released = ops.some((o) => o.kind === 'indexRemove' && o.index === op.index && o.key === op.key && o.id === holder);
            if (holder !== undefined && holder !== op.id && !released) failure = new UniqueViolationError(op.index, op.key);
          }
          if (failure) return ABORT;
          continue;
        }
        if (op.kind === 'setState' || op.kind === 'deleteState') continue;
        const cur = this.db.getEntry(modelKey(op.type, op.id));
        if (op.kind === 'create') {
          if (cur) failure = new ObjectExistsError(op.type, op.id);
        } else if (!cur) {
          failure = op.kind === 'delete' ? new ConcurrentModificationError(`${op.type} ${op.id} vanished`) : new NotFoundError(op.type, op.id);
        } else if (cur.version !== op.version) {
          failure = new ConcurrentModificationError(`${op.type} ${op.id} changed`);
        }
        if (failure) return ABORT;
      }
      seq = ((this.db.get('q/commit') as number | undefined) ?? 0) + 1;
      this.db.put('q/commit', seq);
      for (const op of ops) {
        if (op.kind === 'indexRemove' || op.kind === 'indexAdd') {
          const k = op.unique ? indexKey(op.index, op.key) : `${indexKey(op.index, op.key)}/${op.id}`;
          if (op.kind === 'indexAdd') this.db.put(k, op.unique ? op.id : '');
          else if (!op.unique || this.db.get(k) === op.id) this.db.remove(k);
          continue;
        }
        if (op.kind === 'setState' || op.kind === 'deleteState') {
          const k = stateKey(op.key);
          if (op.kind === 'setState') this.db.put(k, op.value);
          else this.db.remove(k);
          continue;
        }
        const k = modelKey(op.type, op.id);
        if (op.kind === 'delete') {
          this.db.remove(k);
          changes.push({ type: op.type, id: op.id, value: null });
        } else {
          this.db.put(k, op.value, seq);
          changes.push({ type: op.type, id: op.id, value: { value: op.value, version: seq } });
        }
      }
      return seq;
    }));
    if (result === ABORT) throw failure ?? new ConcurrentModificationError('aborted');
    this.deliver(seq, changes);
    for (const op of ops) {
      if (op.kind !== 'setState' && op.kind !== 'deleteState') continue;
      const k = stateKey(op.key);
      this.ephemeral.delete(k);
      this.emitState(k, op.kind === 'setState' ? op.value : null);
    }
  }

  async lookup(index: string, key: string, unique: boolean): Promise<string[]> {
    const k = indexKey(index, key);
    if (unique) {
      const id = this.db.get(k) as string | undefined;
      return id === undefined ? [] : [id];
    }
    return this.below(k);
  }

  async members(index: string, prefix: string): Promise<string[]> {
    return this.below(indexKey(index, prefix)).map(partOf);
  }

  /** The names one level below a key. */
  private below(k: string): string[] {
    const out: string[] = [];
    for (const e of this.db.getKeys({ start: `${k}/`, end: `${k}0` })) {
      const rest = String(e).slice(k.length + 1);
      if (!rest.includes('/')) out.push(rest);
    }
    return out;
  }

  /** Notifies in commit order even when LMDB resolves batched commits out of order. */
  private deliver(seq: number, changes: Change[]): void {
    this.ready.set(seq, changes);
    while (this.ready.has(this.nextToDeliver)) {
      const n = this.nextToDeliver;
      for (const c of this.ready.get(n)!) {
        this.objectListeners.emit(`${c.type}/${c.id}`, [c, n]);
        this.typeListeners.emit(c.type, [c, n]);
      }
      this.ready.delete(n);
      this.nextToDeliver++;
    }
  }

  watchObject(type: string, id: string, listener: (change: Change) => void): Unsubscribe {
    const l = monotonic(listener);
    const off = this.objectListeners.add(`${type}/${id}`, ([c, v]) => l(c, v));
    const cur = this.readSync(type, id);
    l({ type, id, value: cur }, cur ? cur.version : 0);
    return off;
  }

  watchType(type: string, listener: (change: Change) => void): Unsubscribe {
    const l = monotonic(listener);
    const off = this.typeListeners.add(type, ([c, v]) => l(c, v));
    for (const v of this.readAllSync(type)) l({ type, id: v.value.id, value: v }, v.version);
    return off;
  }

  async reserve(name: string, count: number): Promise<number> {
    const k = `q/seq/${name}`;
    return written(this.db.transaction(() => {
      const first = ((this.db.get(k) as number | undefined) ?? 0) + 1;
      this.db.put(k, first + count - 1);
      return first;
    }));
  }

  async setState(key: StateKey, value: string, owner: string | null): Promise<void> {
    const k = stateKey(key);
    if (owner === null) {
      this.ephemeral.delete(k);
      await written(this.db.put(k, value));
    } else {
      this.ephemeral.set(k, { value, owner });
    }
    this.emitState(k, value);
  }

  private emitState(k: string, value: string | null): void {
    this.stateListeners.emit(k, value);
    const slash = k.lastIndexOf('/');
    this.dirListeners.emit(k.slice(0, slash), [k.slice(slash + 1), value]);
  }

  private valueSync(k: string): string | null {
    return this.ephemeral.get(k)?.value ?? (this.db.get(k) as string | undefined) ?? null;
  }

  async getState(key: StateKey): Promise<string | null> {
    return this.valueSync(stateKey(key));
  }

  async listState(key: StateKey): Promise<string[]> {
    return this.listSync(key);
  }

  private listSync(key: StateKey): string[] {
    const prefix = key.key === '' ? `s/${key.type}/${key.id}/` : `${stateKey(key)}/`;
    const names = new Set<string>();
    const take = (k: string) => names.add(k.slice(prefix.length).split('/')[0]!);
    for (const k of this.db.getKeys({ start: prefix, end: `${prefix.slice(0, -1)}0` })) take(String(k));
    for (const k of this.ephemeral.keys()) if (k.startsWith(prefix)) take(k);
    return [...names].sort();
  }

  async stateDir(key: StateKey, namePrefix = ''): Promise<[string, string][]> {
    const prefix = `${stateKey(key)}/`;
    const out = new Map<string, string>();
    const end = namePrefix ? `${prefix}${namePrefix}\uffff` : `${prefix.slice(0, -1)}0`;
    for (const { key: k, value } of this.db.getRange({ start: `${prefix}${namePrefix}`, end })) {
      const name = String(k).slice(prefix.length);
      if (!name.includes('/') && typeof value === 'string') out.set(name, value);
    }
    for (const [k, e] of this.ephemeral) if (k.startsWith(`${prefix}${namePrefix}`) && !k.slice(prefix.length).includes('/')) out.set(k.slice(prefix.length), e.value);
    return [...out];
  }

  async claimState(key: StateKey, value: string, owner: string): Promise<boolean> {
    const k = stateKey(key);
    const held = this.ephemeral.get(k);
    if (held) return held.owner === owner;
    if (this.db.get(k) !== undefined) return false;
    this.ephemeral.set(k, { value, owner });
    this.emitState(k, value);
    return true;
  }

  async deleteState(key: StateKey): Promise<void> {
    const k = stateKey(key);
    this.ephemeral.delete(k);
    await written(this.db.remove(k));
    this.emitState(k, null);
  }

  async endSession(owner: string): Promise<void> {
    for (const [k, e] of [...this.ephemeral]) {
      if (e.owner !== owner) continue;
      this.ephemeral.delete(k);
      this.emitState(k, this.valueSync(k));
    }
  }

  watchState(key: StateKey, listener: (value: string | null) => void): Unsubscribe {
    const k = stateKey(key);
    const off = this.stateListeners.add(k, listener);
    listener(this.valueSync(k));
    return off;
  }

  watchStateDir(key: StateKey, listener: (name: string, value: string | null) => void): Unsubscribe {
    const off = this.dirListeners.add(stateKey(key), ([name, value]) => listener(name, value));
    for (const name of this.listSync(key)) listener(name, this.valueSync(`${stateKey(key)}/${name}`));
    return off;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
