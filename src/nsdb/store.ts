import type { Backend, Change, Entity, StateKey, Unsubscribe } from './backend.ts';
import { BindingIndex, type Binding } from './bindings.ts';
import { ConcurrentModificationError, NotFoundError } from './errors.ts';
import { Transaction } from './transaction.ts';

export interface StoreOptions {
  bindings: readonly Binding[];
  /** How many times a transaction is retried after losing an optimistic race (MidoNet: 3). */
  transactionAttempts?: number;
}

/**
 * The NSDB as the rest of the system sees it: typed objects, transactions with referential
 * bindings, watches and state keys, over either backend.
 */
export class Store {
  private readonly index: BindingIndex;
  private readonly attempts: number;

  constructor(
    readonly backend: Backend,
    options: StoreOptions,
  ) {
    this.index = new BindingIndex(options.bindings);
    this.attempts = options.transactionAttempts ?? 3;
  }

  /**
   * Runs `body` against a fresh transaction and commits it; on a lost race the whole body runs
   * again on fresh reads, so callers must keep their side effects inside it.
   */
  async tx<R>(body: (tx: Transaction) => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      const tx = new Transaction(this.backend, this.index);
      const result = await body(tx);
      try {
        const ops = tx.ops();
        if (ops.length > 0) await this.backend.commit(ops);
        return result;
      } catch (err) {
        if (!(err instanceof ConcurrentModificationError) || attempt >= this.attempts) throw err;
      }
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

  nextTunnelKey(): Promise<number> {
    return this.backend.nextSequence('tunnel_keys');
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
