import zookeeper, { type Client, type Event, type Exception as ZkException, type Stat } from 'node-zookeeper-client';
import type { Backend, Change, Obj, Op, StateKey, Unsubscribe, Versioned } from '../backend.ts';
import { randomUUID } from 'node:crypto';
import {
  ConcurrentModificationError,
  NsdbUnavailableError,
  ObjectExistsError,
  StorageError,
  StorageTimeoutError,
  UniqueViolationError,
} from '../errors.ts';
import { partOf } from '../indexes.ts';
import { log } from '../../conf/log.ts';

const { Exception, CreateMode } = zookeeper;
const logger = log('nsdb');

export interface ZkOptions {
  /** host:port[,host:port...] */
  hosts: string;
  rootKey?: string;
  sessionTimeoutMs?: number;
  connectTimeoutMs?: number;
}

type Watcher = (event: Event) => void;
type ZkError = Error | ZkException | null;

function codeOf(err: unknown): number | undefined {
  return err instanceof Exception ? err.getCode() : undefined;
}

/** Errors that say the session cannot talk to ZooKeeper now, not that the request was wrong. */
const UNREACHABLE = new Set([Exception.CONNECTION_LOSS, Exception.SESSION_EXPIRED, Exception.OPERATION_TIMEOUT]);
const unreachable = (err: unknown) => UNREACHABLE.has(codeOf(err) ?? 0);

/** What a caller sees of a ZooKeeper failure: unreachable is NsdbUnavailableError (503), the rest as it is. */
function translated(err: unknown): unknown {
  return unreachable(err) ? new NsdbUnavailableError(`ZooKeeper is not reachable now: ${String(err)}`) : err;
}

/** node-zookeeper-client's connection, reached only to drop a handshake nobody answers. */
interface ClientInternals {
  connectionManager?: { socket?: { destroy(): void } };
}

/** How much longer than its session's timeout a request may wait for an answer. */
const REQUEST_MARGIN_MS = 5000;

/** How long a commit whose answer was lost waits for ZooKeeper to find out whether it landed. */
const OUTCOME_WAIT_MS = 45_000;

const encode = (v: unknown) => Buffer.from(JSON.stringify(v));

/**
 * NSDB in a ZooKeeper ensemble, laid out as MidoNet's ZOOM does: objects at
 * {root}/zoom/0/models/<Type>/<id>, state keys at {root}/zoom/0/state/<Type>/<id>/<key>.
 * Transactions are ZooKeeper `multi` with the versions read; session-owned state keys are
 * ephemeral nodes, so they vanish with this process's ZooKeeper session as well.
 *
 * A session that expires is renewed: a new session, the keys the old one owned made again, every
 * watch armed again (watchers see what changed meanwhile). A commit whose answer was lost is
 * looked up by the marker it wrote in the same multi, so its caller learns what really happened.
 */
export class ZkBackend implements Backend {
  readonly name = 'zookeeper' as const;
  private readonly base: string;
  private readonly ensured = new Set<string>();
  /** Session-owned keys by owner: path -> value, to make again in a renewed session. */
  private readonly owned = new Map<string, Map<string, string>>();
  /** How to arm each watch again in a new session. */
  private readonly arms = new Set<() => void>();
  private closed = false;
  private up = true;
  private client: Client;
  readonly counters = { renewals: 0, ambiguousCommits: 0 };

  private constructor(
    client: Client,
    rootKey: string,
    private readonly opts: ZkOptions,
  ) {
    this.base = `${rootKey.replace(/\/$/, '')}/zoom/0`;
    this.client = client;
    this.attach(client);
  }

  /** Whether the session can talk to ZooKeeper now. */
  get available(): boolean {
    return this.up && !this.closed;
  }

  private static async open(opts: ZkOptions): Promise<Client> {
    const client = zookeeper.createClient(opts.hosts, {
      sessionTimeout: opts.sessionTimeoutMs ?? 30000,
      spinDelay: 200,
      retries: 1,
    });
    const timeout = opts.connectTimeoutMs ?? 15000;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        client.close();
        reject(new StorageTimeoutError(`cannot connect to ZooKeeper at ${opts.hosts} within ${timeout} ms`));
      }, timeout);
      client.once('connected', () => {
        clearTimeout(t);
        resolve();
      });
      client.connect();
    });
    return client;
  }

  static async connect(opts: ZkOptions): Promise<ZkBackend> {
    const backend = new ZkBackend(await ZkBackend.open(opts), opts.rootKey ?? '/midonet', opts);
    await backend.mkdirp(backend.base);
    return backend;
  }

  private attach(client: Client): void {
    // As ZooKeeper's own client does: a connection that has not become a session again within two
    // thirds of the session timeout is dropped and tried afresh. This client waits for ever on a
    // server that took the connection but never answered its handshake (seen as ZooKeeper restarts),
    // and every request queued behind it with it.
    const period = Math.floor(((this.opts.sessionTimeoutMs ?? 30000) * 2) / 3);
    let handshake: NodeJS.Timeout | undefined;
    const retry = () => {
      handshake = undefined;
      if (this.client !== client || this.closed || this.up) return;
      (client as unknown as ClientInternals).connectionManager?.socket?.destroy();
      handshake = setTimeout(retry, period).unref();
    };
    client.on('disconnected', () => {
      if (this.client !== client) return;
      this.up = false;
      handshake ??= setTimeout(retry, period).unref();
    });
    client.on('connected', () => {
      if (this.client !== client) return;
      this.up = true;
      clearTimeout(handshake);
      handshake = undefined;
    });
    client.on('expired', () => {
      if (this.client === client) void this.renew();
    });
  }

  /** A new session after the old one expired: owned keys made again, every watch armed again. */
  private async renew(): Promise<void> {
    this.up = false;
    const old = this.client;
    old.close();
    for (;;) {
      if (this.closed) return;
      try {
        const client = await ZkBackend.open(this.opts);
        this.client = client;
        this.attach(client);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    this.ensured.clear();
    for (const paths of this.owned.values()) {
      for (const [p, value] of paths) {
        try {
          await this.mkdirp(p.slice(0, p.lastIndexOf('/')));
          await this.call<string>((cb) => this.client.create(p, Buffer.from(value), CreateMode.EPHEMERAL, cb));
        } catch (err) {
          if (codeOf(err) !== Exception.NODE_EXISTS) logger.error({ path: p, err: String(err) }, 'could not restore a session key');
        }
      }
    }
    this.up = true;
    this.counters.renewals++;
    logger.warn({ renewals: this.counters.renewals }, 'ZooKeeper session expired and renewed: session keys made again, watches armed again');
    for (const arm of this.arms) arm();
  }

  /**
   * One request, answered or refused within the deadline: the client queues a request made while
   * it is disconnected and never answers it if the session then expires, so none may wait for ever.
   */
  private call<T>(fn: (cb: (err: ZkError, value: T) => void) => void): Promise<T> {
    const deadline = (this.opts.sessionTimeoutMs ?? 30000) + REQUEST_MARGIN_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new NsdbUnavailableError(`ZooKeeper did not answer within ${deadline} ms`)), deadline);
      fn((err, value) => {
        clearTimeout(timer);
        if (err) reject(translated(err));
        else resolve(value);
      });
    });
  }

  private async mkdirp(path: string): Promise<void> {
    if (this.ensured.has(path)) return;
    await this.call<string>((cb) => this.client.mkdirp(path, cb));
    this.ensured.add(path);
  }

  private typeDir(type: string): string {
    return `${this.base}/models/${type}`;
  }

  private path(type: string, id: string): string {
    return `${this.typeDir(type)}/${id}`;
  }

  /** A unique index key is a node holding its object's id; a shared one has a child per object. */
  private indexPath(index: string, key: string): string {
    return `${this.base}/indexes/${index}/${key}`;
  }

  private statePath(k: StateKey): string {
    const tail = k.key === '' ? '' : `/${k.key}`;
    return `${this.base}/state/${k.type}/${k.id}${tail}`;
  }

  private async getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat } | null> {
    try {
      return await this.call<{ data: Buffer; stat: Stat }>((done) => {
        const cb = (err: ZkError, data: Buffer, stat: Stat) => done(err, { data, stat });
        if (watcher) this.client.getData(path, watcher, cb);
        else this.client.getData(path, cb);
      });
    } catch (err) {
      if (codeOf(err) === Exception.NO_NODE) return null;
      throw err;
    }
  }

  private async children(path: string, watcher?: Watcher): Promise<string[]> {
    try {
      return await this.call<string[]>((cb) => {
        if (watcher) this.client.getChildren(path, watcher, cb);
        else this.client.getChildren(path, cb);
      });
    } catch (err) {
      if (codeOf(err) === Exception.NO_NODE) return [];
      throw err;
    }
  }

  private static versioned(r: { data: Buffer; stat: Stat }): Versioned {
    return { value: JSON.parse(r.data.toString('utf8')) as Obj, version: r.stat.version };
  }

  async read(type: string, id: string): Promise<Versioned | null> {
    const r = await this.getData(this.path(type, id));
    return r ? ZkBackend.versioned(r) : null;
  }

  async readAll(type: string): Promise<Versioned[]> {
    const ids = await this.children(this.typeDir(type));
    const all = await Promise.all(ids.map((id) => this.read(type, id)));
    return all.filter((v): v is Versioned => v !== null);
  }

  async commit(ops: Op[]): Promise<void> {
    // ZooKeeper's multi cannot create-or-set: state keys are looked at first (a change meanwhile fails the multi, and it runs again).
    const exists = new Map<string, boolean>();
    for (const op of ops) {
      if (op.kind === 'create') await this.mkdirp(this.typeDir(op.type));
      else if (op.kind === 'indexAdd') {
        const p = this.indexPath(op.index, op.key);
        await this.mkdirp(op.unique ? p.slice(0, p.lastIndexOf('/')) : p);
      } else if (op.kind === 'setState' || op.kind === 'deleteState') {
        const p = this.statePath(op.key);
        if (op.kind === 'setState') await this.mkdirp(p.slice(0, p.lastIndexOf('/')));
        exists.set(p, (await this.getData(p)) !== null);
      }
    }
    const t = this.client.transaction();
    for (const op of ops) {
      if (op.kind === 'setState' || op.kind === 'deleteState') {
        const p = this.statePath(op.key);
        if (op.kind === 'setState') {
          if (exists.get(p)) t.setData(p, Buffer.from(op.value), -1);
          else t.create(p, Buffer.from(op.value), CreateMode.PERSISTENT);
        } else if (exists.get(p)) t.remove(p, -1);
        this.track(p, null);
        continue;
      }
      if (op.kind === 'indexAdd' || op.kind === 'indexRemove') {
        const p = op.unique ? this.indexPath(op.index, op.key) : `${this.indexPath(op.index, op.key)}/${op.id}`;
        if (op.kind === 'indexAdd') t.create(p, Buffer.from(op.unique ? op.id : ''), CreateMode.PERSISTENT);
        else t.remove(p, -1);
        continue;
      }
      const p = this.path(op.type, op.id);
      if (op.kind === 'create') {
        t.create(p, encode(op.value), CreateMode.PERSISTENT);
        continue;
      }
      if (op.kind === 'update') t.setData(p, encode(op.value), op.version);
      else t.remove(p, op.version);
      // The client turns version 0 (every fresh node's) into -1, "any version": put it back.
      (t as unknown as { ops: { version: number }[] }).ops.at(-1)!.version = op.version;
    }
    // A marker written with the changes: if the answer is lost, its presence says they landed.
    const marker = `${this.base}/tx/${randomUUID()}`;
    await this.mkdirp(`${this.base}/tx`);
    t.create(marker, Buffer.alloc(0), CreateMode.PERSISTENT);
    let results: { err: number }[] | undefined;
    try {
      await this.call<unknown>((cb) => t.commit((err, res) => {
        results = res as { err: number }[] | undefined;
        cb(err, res);
      }));
    } catch (err) {
      if (!(err instanceof NsdbUnavailableError)) throw ZkBackend.commitError(err, ops, results);
      if (await this.outcome(marker)) return;
      // It did not land: the transaction runs again on fresh reads.
      throw new ConcurrentModificationError('the connection to ZooKeeper was lost before the commit landed');
    }
    void this.removeNode(marker).catch(() => undefined);
  }

  /**
   * Whether a commit whose answer was lost landed: waits for ZooKeeper, makes sure this session's
   * server has caught up (a write of its own first), then looks for the commit's marker.
   */
  private async outcome(marker: string): Promise<boolean> {
    this.counters.ambiguousCommits++;
    const end = Date.now() + OUTCOME_WAIT_MS;
    for (;;) {
      if (this.closed) throw new NsdbUnavailableError('the NSDB is closed');
      if (this.up) {
        try {
          await this.call<Stat>((cb) => this.client.setData(`${this.base}/tx`, Buffer.alloc(0), -1, cb));
          const landed = (await this.getData(marker)) !== null;
          if (landed) void this.removeNode(marker).catch(() => undefined);
          return landed;
        } catch (err) {
          if (!(err instanceof NsdbUnavailableError)) throw err;
        }
      }
      if (Date.now() > end) throw new NsdbUnavailableError('ZooKeeper did not come back in time: the write may or may not have landed');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** What a failed multi means, from the op that failed it (the others answer OK or "rolled back"). */
  private static commitError(err: unknown, ops: Op[], results: { err: number }[] | undefined): Error {
    const code = codeOf(err);
    const i = results?.findIndex((r) => r.err !== Exception.OK && r.err !== Exception.RUNTIME_INCONSISTENCY) ?? -1;
    const op = i >= 0 ? ops[i] : undefined;
    if (code === Exception.NODE_EXISTS) {
      if (op?.kind === 'indexAdd') return new UniqueViolationError(op.index, op.key);
      if (op?.kind === 'create') return new ObjectExistsError(op.type, op.id);
    }
    if (code === Exception.NODE_EXISTS || code === Exception.BAD_VERSION || code === Exception.NO_NODE) {
      return new ConcurrentModificationError(String(err));
    }
    return new StorageError(`ZooKeeper multi failed: ${String(err)}`);
  }

  async lookup(index: string, key: string, unique: boolean): Promise<string[]> {
    const p = this.indexPath(index, key);
    if (!unique) return this.children(p);
    const r = await this.getData(p);
    return r ? [r.data.toString('utf8')] : [];
  }

  async members(index: string, prefix: string): Promise<string[]> {
    return (await this.children(this.indexPath(index, prefix))).map(partOf);
  }

  /**
   * Keeps a one-shot ZooKeeper watch re-armed on a node; `onValue` sees each distinct state
   * (deduplicated by modification zxid) until the returned function is called.
   */
  private follow(path: string, onValue: (r: { data: Buffer; stat: Stat } | null) => void): Unsubscribe {
    let active = true;
    let last: string | null | undefined;
    // Each arming (the first, and one per renewed session) is a generation; older ones stop.
    let gen = 0;
    const arm = async (g: number): Promise<void> => {
      if (!active || this.closed || g !== gen) return;
      try {
        const r = await this.getData(path, () => void arm(g));
        if (!r) {
          // Wait for creation: exists() leaves a watch even when the node is absent.
          await this.call<Stat>((cb) => this.client.exists(path, () => void arm(g), cb));
        }
        const tag = r ? r.stat.mzxid.toString('hex') : null;
        if (active && g === gen && tag !== last) {
          last = tag;
          onValue(r);
        }
      } catch {
        if (active && !this.closed && g === gen) setTimeout(() => void arm(g), 500);
      }
    };
    const rearm = () => void arm(++gen);
    this.arms.add(rearm);
    rearm();
    return () => {
      active = false;
      this.arms.delete(rearm);
    };
  }

  watchObject(type: string, id: string, listener: (change: Change) => void): Unsubscribe {
    return this.follow(this.path(type, id), (r) => listener({ type, id, value: r ? ZkBackend.versioned(r) : null }));
  }

  watchType(type: string, listener: (change: Change) => void): Unsubscribe {
    return this.followChildren(this.typeDir(type), (id, r) => listener({ type, id, value: r ? ZkBackend.versioned(r) : null }));
  }

  /**
   * Follows the children of a node (made if missing) and each child's data: `onChild` sees every
   * child as it is, then each change, and null once it is gone.
   */
  private followChildren(dir: string, onChild: (name: string, r: { data: Buffer; stat: Stat } | null) => void): Unsubscribe {
    let active = true;
    let gen = 0;
    const known = new Map<string, Unsubscribe>();
    const sync = async (g: number): Promise<void> => {
      if (!active || this.closed || g !== gen) return;
      try {
        await this.mkdirp(dir);
        const names = new Set(await this.children(dir, () => void sync(g)));
        if (!active || g !== gen) return;
        for (const name of names) if (!known.has(name)) {
          known.set(name, this.follow(`${dir}/${name}`, (r) => {
            if (r) onChild(name, r);
            else if (known.delete(name)) onChild(name, null);
          }));
        }
        for (const [name, off] of known) if (!names.has(name)) {
          off();
          known.delete(name);
          onChild(name, null);
        }
      } catch {
        if (active && !this.closed && g === gen) setTimeout(() => void sync(g), 500);
      }
    };
    const rearm = () => void sync(++gen);
    this.arms.add(rearm);
    rearm();
    return () => {
      active = false;
      this.arms.delete(rearm);
      for (const off of known.values()) off();
    };
  }

  async reserve(name: string, count: number): Promise<number> {
    const dir = `${this.base}/sequences/${name}`;
    await this.mkdirp(dir);
    // The parent's sequence counter keeps counting after the node is removed: each number it
    // gives stands for a block of `count`.
    const path = await this.call<string>((cb) => this.client.create(`${dir}/k-`, CreateMode.PERSISTENT_SEQUENTIAL, cb));
    await this.call<void>((cb) => this.client.remove(path, -1, (e) => cb(e, undefined)));
    return Number(path.slice(path.lastIndexOf('-') + 1)) * count + 1;
  }

  async setState(key: StateKey, value: string, owner: string | null): Promise<void> {
    const p = this.statePath(key);
    await this.mkdirp(p.slice(0, p.lastIndexOf('/')));
    const current = await this.getData(p);
    const wasEphemeral = current !== null && !current.stat.ephemeralOwner.equals(Buffer.alloc(8));
    if (current && (wasEphemeral !== (owner !== null))) {
      await this.removeNode(p);
    } else if (current) {
      await this.call<Stat>((cb) => this.client.setData(p, Buffer.from(value), -1, cb));
      this.track(p, owner, value);
      return;
    }
    const mode = owner === null ? CreateMode.PERSISTENT : CreateMode.EPHEMERAL;
    try {
      await this.call<string>((cb) => this.client.create(p, Buffer.from(value), mode, cb));
    } catch (err) {
      if (codeOf(err) !== Exception.NODE_EXISTS) throw err;
      await this.call<Stat>((cb) => this.client.setData(p, Buffer.from(value), -1, cb));
    }
    this.track(p, owner, value);
  }

  private track(path: string, owner: string | null, value = ''): void {
    for (const paths of this.owned.values()) paths.delete(path);
    if (owner === null) return;
    let paths = this.owned.get(owner);
    if (!paths) this.owned.set(owner, (paths = new Map()));
    paths.set(path, value);
  }

  private async removeNode(path: string): Promise<void> {
    try {
      await this.call<void>((cb) => this.client.remove(path, -1, (e) => cb(e, undefined)));
    } catch (err) {
      if (codeOf(err) !== Exception.NO_NODE) throw err;
    }
  }

  async getState(key: StateKey): Promise<string | null> {
    const r = await this.getData(this.statePath(key));
    return r ? r.data.toString('utf8') : null;
  }

  async listState(key: StateKey): Promise<string[]> {
    return (await this.children(this.statePath(key))).sort();
  }

  async claimState(key: StateKey, value: string, owner: string): Promise<boolean> {
    const p = this.statePath(key);
    if (this.owned.get(owner)?.has(p)) return true;
    await this.mkdirp(p.slice(0, p.lastIndexOf('/')));
    try {
      await this.call<string>((cb) => this.client.create(p, Buffer.from(value), CreateMode.EPHEMERAL, cb));
    } catch (err) {
      if (codeOf(err) === Exception.NODE_EXISTS) return false;
      throw err;
    }
    this.track(p, owner, value);
    return true;
  }

  async stateDir(key: StateKey, prefix = ''): Promise<[string, string][]> {
    const dir = this.statePath(key);
    const names = (await this.children(dir)).filter((n) => n.startsWith(prefix));
    const values = await Promise.all(names.map((n) => this.getData(`${dir}/${n}`)));
    return names.flatMap((n, i): [string, string][] => (values[i] ? [[n, values[i]!.data.toString('utf8')]] : []));
  }

  async deleteState(key: StateKey): Promise<void> {
    const p = this.statePath(key);
    this.track(p, null);
    await this.removeNode(p);
  }

  async endSession(owner: string): Promise<void> {
    const paths = this.owned.get(owner);
    this.owned.delete(owner);
    for (const p of paths?.keys() ?? []) await this.removeNode(p);
  }

  watchState(key: StateKey, listener: (value: string | null) => void): Unsubscribe {
    return this.follow(this.statePath(key), (r) => listener(r ? r.data.toString('utf8') : null));
  }

  watchStateDir(key: StateKey, listener: (name: string, value: string | null) => void): Unsubscribe {
    return this.followChildren(this.statePath(key), (name, r) => listener(name, r ? r.data.toString('utf8') : null));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.close();
  }
}
