import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { ApiToken, type Credentials } from '../conf/credentials.ts';
import { TOPOLOGY_PATH, type TopologyMessage, type TopologyRequest } from '../model/topology-protocol.ts';
import { log } from '../conf/log.ts';

const logger = log('cluster-client');

type WithoutReq<T> = T extends unknown ? Omit<T, 'req'> : never;
type Request = WithoutReq<TopologyRequest>;
type Subscription = Extract<Request, { op: 'watch' | 'watchType' | 'watchState' | 'watchStateDir' }>;
type Held = { type: string; id: string; key: string; value: string; claim: boolean };

/** How long a claim waits for its answer before it counts as not granted. */
const ANSWER_MS = 10_000;

/**
 * The agent's link to the cluster: the topology stream over WebSocket, failing over between the
 * listed cluster nodes, with the host's credential. Subscriptions and owned state keys are
 * replayed on every reconnection, so a cluster restart or failover looks like a pause, never a loss.
 */
export class ClusterClient extends EventEmitter {
  private ws: WebSocket | null = null;
  private next = 0;
  private req = 0;
  private stopped = false;
  private readonly subs = new Map<string, Subscription>();
  private readonly owned = new Map<string, Held>();
  private readonly answers = new Map<number, (m: TopologyMessage | null) => void>();
  private readonly tokens = new Map<string, ApiToken>();
  /** The API URL of the node currently connected to. */
  current: string;
  readonly counters = { messages: 0, bytes: 0, malformed: 0, refused: 0, authFailures: 0 };

  constructor(
    readonly apiUrls: string[],
    private readonly credentials: Credentials | null = null,
  ) {
    super();
    if (apiUrls.length === 0) throw new Error('no cluster URL');
    this.current = apiUrls[0]!;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** The token of a cluster node (one login per node). */
  token(api = this.current): ApiToken {
    let t = this.tokens.get(api);
    if (!t) this.tokens.set(api, (t = new ApiToken(api, this.credentials)));
    return t;
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const api = this.apiUrls[this.next % this.apiUrls.length]!;
    this.next++;
    const u = new URL(api);
    let headers: Record<string, string>;
    try {
      headers = await this.token(api).headers();
    } catch (err) {
      this.counters.authFailures++;
      logger.error({ cluster: api, err: (err as Error).message }, 'cannot log in to the cluster');
      setTimeout(() => void this.connect(), 2000);
      return;
    }
    const ws = new WebSocket(`${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}${TOPOLOGY_PATH}`, { headers });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      // 401: the token expired or was revoked; log in again on the next try.
      if (res.statusCode === 401) this.token(api).forget();
      this.counters.authFailures++;
      logger.error({ cluster: api, status: res.statusCode }, 'the topology stream refused this host');
      ws.terminate();
    });
    ws.on('open', () => {
      this.current = api;
      logger.info({ cluster: api }, 'topology stream connected');
      for (const s of this.subs.values()) this.send(s);
      for (const s of this.owned.values()) {
        if (s.claim) void this.claimState(s.type, s.id, s.key, s.value);
        else this.send({ op: 'setState', type: s.type, id: s.id, key: s.key, value: s.value });
      }
      this.emit('connected', api);
    });
    ws.on('message', (d) => this.receive(d.toString()));
    ws.on('close', () => {
      if (this.ws === ws) this.ws = null;
      for (const answer of this.answers.values()) answer(null);
      this.answers.clear();
      this.emit('disconnected');
      if (!this.stopped) setTimeout(() => void this.connect(), 500);
    });
    ws.on('error', () => ws.terminate());
  }

  private receive(text: string): void {
    this.counters.messages++;
    this.counters.bytes += text.length;
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      this.counters.malformed++;
      return;
    }
    if (typeof m !== 'object' || m === null || typeof (m as { op?: unknown }).op !== 'string') {
      this.counters.malformed++;
      return;
    }
    const msg = m as TopologyMessage;
    if ((msg.op === 'ack' || msg.op === 'error') && typeof msg.req === 'number') {
      const answer = this.answers.get(msg.req);
      if (answer) {
        this.answers.delete(msg.req);
        answer(msg);
      }
      if (msg.op === 'error') {
        this.counters.refused++;
        logger.warn({ message: msg.message }, 'the cluster refused a request');
      }
    }
    this.emit('message', msg);
  }

  private send(m: Request): number {
    const req = ++this.req;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ ...m, req }));
    return req;
  }

  subscribe(s: Subscription): void {
    const key = JSON.stringify(s);
    if (this.subs.has(key)) return;
    this.subs.set(key, s);
    this.send(s);
  }

  /** Ends a subscription made with `subscribe`. */
  unsubscribe(s: Subscription): void {
    if (!this.subs.delete(JSON.stringify(s))) return;
    if (s.op === 'watchType') this.send({ op: 'unwatch', type: s.type });
    else if (s.op === 'watch') this.send({ op: 'unwatch', type: s.type, id: s.id });
    else this.send({ op: 'unwatch', type: s.type, id: s.id, key: s.key, dir: s.op === 'watchStateDir' });
  }

  /** A state key owned by this agent's connection (it vanishes if the agent dies). */
  setState(type: string, id: string, key: string, value: string): void {
    this.owned.set(`${type}/${id}/${key}`, { type, id, key, value, claim: false });
    this.send({ op: 'setState', type, id, key, value });
  }

  deleteState(type: string, id: string, key: string): void {
    this.owned.delete(`${type}/${id}/${key}`);
    this.send({ op: 'deleteState', type, id, key });
  }

  /**
   * Takes a key for this connection if nobody holds it (a NAT block): true when granted. Not
   * connected, or no answer in time, is not granted.
   */
  async claimState(type: string, id: string, key: string, value: string): Promise<boolean> {
    if (!this.connected) return false;
    const req = this.send({ op: 'claimState', type, id, key, value });
    const answer = await new Promise<TopologyMessage | null>((resolve) => {
      const t = setTimeout(() => {
        this.answers.delete(req);
        resolve(null);
      }, ANSWER_MS);
      this.answers.set(req, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    const granted = answer?.op === 'ack' && answer.value === 'claimed';
    if (granted) this.owned.set(`${type}/${id}/${key}`, { type, id, key, value, claim: true });
    else this.owned.delete(`${type}/${id}/${key}`);
    return granted;
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }
}
