/**
 * What a storage backend must provide. Everything above (transactions, referential bindings,
 * retries) is written once in the store over this interface, so the embedded and ZooKeeper
 * backends differ only in how they persist and notify.
 */

export type Obj = { id: string } & Record<string, unknown>;
/** Any typed record with an id; the store handles it as an Obj. */
export type Entity = { id: string };

export interface Versioned {
  value: Obj;
  version: number;
}

export type Op =
  | { kind: 'create'; type: string; id: string; value: Obj }
  | { kind: 'update'; type: string; id: string; value: Obj; version: number }
  | { kind: 'delete'; type: string; id: string; version: number }
  /** Index entries (indexes.ts), written with the objects they index; a unique key held by another id fails the commit. */
  | { kind: 'indexAdd'; index: string; key: string; id: string; unique: boolean }
  | { kind: 'indexRemove'; index: string; key: string; id: string; unique: boolean }
  /** A state key no session owns, written with the objects (a bridge's table entry a translation makes). */
  | { kind: 'setState'; key: StateKey; value: string }
  | { kind: 'deleteState'; key: StateKey };

/** A change seen by a watcher: the new value, or null once deleted. */
export interface Change {
  type: string;
  id: string;
  value: Versioned | null;
}

export type Unsubscribe = () => void;

/** Address of a state key: owned by an object, e.g. (Host, id, "alive") or (Network, id, "mac_table/0/..."). */
export interface StateKey {
  type: string;
  id: string;
  key: string;
}

export interface Backend {
  readonly name: 'embedded' | 'zookeeper';
  /** Whether the NSDB can be reached now (a ZooKeeper session lost and not yet renewed cannot). */
  readonly available: boolean;
  read(type: string, id: string): Promise<Versioned | null>;
  readAll(type: string): Promise<Versioned[]>;
  /**
   * All-or-nothing; throws ConcurrentModificationError / ObjectExistsError / NotFoundError /
   * UniqueViolationError. Index removals are applied before additions.
   */
  commit(ops: Op[]): Promise<void>;
  /** The ids holding a key of an index, as committed. */
  lookup(index: string, key: string, unique: boolean): Promise<string[]>;
  /** The last parts of the keys one level below `prefix` in a unique index (e.g. the addresses taken in a subnet). */
  members(index: string, prefix: string): Promise<string[]>;
  /** Delivers the current value (null if absent) and then every committed change, in order. */
  watchObject(type: string, id: string, listener: (change: Change) => void): Unsubscribe;
  /** Delivers every current object and then every committed change of that type, in order. */
  watchType(type: string, listener: (change: Change) => void): Unsubscribe;
  /** The first of `count` consecutive numbers never handed out before by this NSDB, whichever cluster node asks. */
  reserve(name: string, count: number): Promise<number>;

  /** owner: a session id whose end removes the key; null keeps it until deleted. */
  setState(key: StateKey, value: string, owner: string | null): Promise<void>;
  getState(key: StateKey): Promise<string | null>;
  /** Names directly below key (key "" lists the object's top-level keys). */
  listState(key: StateKey): Promise<string[]>;
  /** The keys directly below key that hold a value (those whose name starts with `prefix`), with their values, read together. */
  stateDir(key: StateKey, prefix?: string): Promise<[string, string][]>;
  deleteState(key: StateKey): Promise<void>;
  /**
   * Takes a session-owned key only if nobody holds it (or this owner already does): true when
   * the owner holds it now. A lease that two sessions can never both win.
   */
  claimState(key: StateKey, value: string, owner: string): Promise<boolean>;
  /** Ends a session: every key it owns disappears. */
  endSession(owner: string): Promise<void>;
  watchState(key: StateKey, listener: (value: string | null) => void): Unsubscribe;
  /** Delivers every key directly below `key` with its value, then each one set or removed (null). */
  watchStateDir(key: StateKey, listener: (name: string, value: string | null) => void): Unsubscribe;

  close(): Promise<void>;
}
