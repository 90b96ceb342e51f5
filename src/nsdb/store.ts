import type { Backend, Change, Entity, StateKey, Unsubscribe } from './backend.ts';
import { BindingIndex, type Binding } from './bindings.ts';
import { ConcurrentModificationError, NotFoundError, ObjectExistsError, UniqueViolationError } from './errors.ts';
import { IndexSet, type IndexDef } from './indexes.ts';
import { Transaction } from './transaction.ts';

export interface StoreOptions {
  bindings: readonly Binding[];
  indexes?: readonly IndexDef[];
  /** How many times a transaction runs before a lost optimistic race is the caller's error. */
  transactionAttempts?: number;
}

const TUNNEL_KEY_BLOCK = 64;

/** Where the store notes which indexes are complete (a persistent state key per index). */
const builtKey = (name: string): StateKey => ({ type: 'NsdbIndex', id: name, key: 'built' });

/**
 * The NSDB as the rest of the system sees it: typed objects, transactions with referential
 * bindings, watches and state keys, over either backend.
 */
/**
 * Runs of one transaction before a lost race is the caller's 409. Writers in two cluster processes
 * hammering one object win in turns: at 12 a transaction lost every run about once in a thousand,
 * seen across 50 port creates on one network through two clusters.
 */
export const DEFAULT_ATTEMPTS = 24;

export class Store {
  private readonly index: BindingIndex;
  readonly indexes: IndexSet;
  private attempts: number;
  /** Transactions that lost a race run again one at a time here, so contenders in this process converge. */
  private retries: Promise<unknown> = Promise.resolve();
  readonly counters = { commits: 0, conflicts: 0 };
  private keys: { next: number; end: number; refill: Promise<void> | null } = { next: 0, end: 0, refill: null };

  constructor(
    readonly backend: Backend,
    options: StoreOptions,
  ) {
    this.index = new BindingIndex(options.bindings);
    this.indexes = new IndexSet(options.indexes ?? []);
    this.attempts = options.transactionAttempts ?? DEFAULT_ATTEMPTS;
  }

  /**
   * Runs `body` against a fresh transaction and commits it. Independent transactions run at once;
   * one that loses an optimistic race runs again on fresh reads, queued behind this process's
   * other retries (writers in other processes are met by backoff), so callers must keep their side
   * effects inside it.
   */
  async tx<R>(body: (tx: Transaction) => Promise<R>): Promise<R> {
    try {
      return await this.attempt(body);
    } catch (err) {
      if (!(err instanceof ConcurrentModificationError)) throw err;
      this.counters.conflicts++;
    }
    const run = this.retries.then(() => this.retry(body));
    this.retries = run.catch(() => undefined);
    return run;
  }

  private async retry<R>(body: (tx: Transaction) => Promise<R>): Promise<R> {
    for (let attempt = 2; ; attempt++) {
      try {
        return await this.attempt(body);
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= this.attempts) throw err;
        this.counters.conflicts++;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 2 ** attempt)));
      }
    }
  }

  private async attempt<R>(body: (tx: Transaction) => Promise<R>): Promise<R> {
    const tx = new Transaction(this.backend, this.index, this.indexes);
    const result = await body(tx);
    const ops = tx.ops();
    if (ops.length > 0) {
      await this.backend.commit(ops);
      this.counters.commits++;
    }
    return result;
  }

  /** zookeeper.transaction_attempts, as mn-conf says it. */
  setTransactionAttempts(n: number): void {
    if (Number.isInteger(n) && n >= 1) this.attempts = n;
  }

  /** The ids holding `key` in an index. */
  lookup(index: string, key: string): Promise<string[]> {
    return this.backend.lookup(index, key, this.indexes.get(index).unique === true);
  }

  /** The objects holding `key` in an index. */
  async find<T extends Entity>(index: string, key: string): Promise<T[]> {
    const type = this.indexes.get(index).type;
    const all = await Promise.all((await this.lookup(index, key)).map((id) => this.tryGet<T>(type, id)));
    return all.filter((v): v is Awaited<T> => v !== null);
  }

  /**
   * Fills the indexes a store made before they existed, once (a scan per new index at start-up,
   * never on a write path). Safe to run from several processes at once.
   */
  async buildIndexes(): Promise<void> {
    for (const def of this.indexes.all) {
      if ((await this.backend.getState(builtKey(def.name))) !== null) continue;
      for (const v of await this.backend.readAll(def.type)) {
        for (const op of this.indexes.diff(def.type, v.value.id, null, v.value).adds) {
          try {
            await this.backend.commit([op]);
          } catch (err) {
            if (!(err instanceof UniqueViolationError || err instanceof ObjectExistsError)) throw err;
          }
        }
      }
      await this.backend.setState(builtKey(def.name), 'true', null);
    }
  }

  async tryGet<T extends Entity>(type: string, id: string): Promise<T | null> {
    const v = await this.backend.read(type, id);
    return v ? (v.value as T) : null;
  }

  async get<T extends Entity>(type: string, id: string): Promise<T> {
    const v = await this.tryGet<T>(type, id);
    if (!v) throw new NotFoundError(type, id);
    return v;
  }

  async getAll<T extends Entity>(type: string): Promise<T[]> {
    return (await this.backend.readAll(type)).map((v) => v.value as T);
  }

  watch(type: string, id: string, listener: (change: Change) => void): Unsubscribe {
    return this.backend.watchObject(type, id, listener);
  }

  watchType(type: string, listener: (change: Change) => void): Unsubscribe {
    return this.backend.watchType(type, listener);
  }

  /**
   * A tunnel key no port has had, from a block this process reserved (one NSDB write per
   * TUNNEL_KEY_BLOCK keys; a block's unused keys are skipped after a restart).
   */
  async nextTunnelKey(): Promise<number> {
    if (this.keys.next >= this.keys.end) {
      this.keys.refill ??= this.backend.reserve('tunnel_keys', TUNNEL_KEY_BLOCK).then((first) => {
        this.keys = { next: first, end: first + TUNNEL_KEY_BLOCK, refill: null };
      });
      await this.keys.refill;
      return this.nextTunnelKey();
    }
    return this.keys.next++;
  }

  setState(key: StateKey, value: string, owner: string | null = null): Promise<void> {
    return this.backend.setState(key, value, owner);
  }

  getState(key: StateKey): Promise<string | null> {
    return this.backend.getState(key);
  }

  listState(key: StateKey): Promise<string[]> {
    return this.backend.listState(key);
  }

  claimState(key: StateKey, value: string, owner: string): Promise<boolean> {
    return this.backend.claimState(key, value, owner);
  }

  stateDir(key: StateKey, prefix?: string): Promise<[string, string][]> {
    return this.backend.stateDir(key, prefix);
  }

  deleteState(key: StateKey): Promise<void> {
    return this.backend.deleteState(key);
  }

  watchState(key: StateKey, listener: (value: string | null) => void): Unsubscribe {
    return this.backend.watchState(key, listener);
  }

  watchStateDir(key: StateKey, listener: (name: string, value: string | null) => void): Unsubscribe {
    return this.backend.watchStateDir(key, listener);
  }

  endSession(owner: string): Promise<void> {
    return this.backend.endSession(owner);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
