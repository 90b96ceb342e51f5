import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import type { TopologyMessage, TopologyRequest } from '../cluster/topology-service.ts';

type WithoutReq<T> = T extends unknown ? Omit<T, 'req'> : never;
type Request = WithoutReq<TopologyRequest>;
type Subscription = Extract<Request, { op: 'watch' | 'watchType' | 'watchState' | 'watchStateDir' }>;

/**
 * The agent's link to the cluster: the topology stream over WebSocket, failing over between the
 * listed cluster nodes. Subscriptions and owned state keys are replayed on every reconnection,
 * so a cluster restart or failover looks like a pause, never a loss.
 */
export class ClusterClient extends EventEmitter {
  private ws: WebSocket | null = null;
  private next = 0;
  private req = 0;
  private stopped = false;
  private readonly subs = new Map<string, Subscription>();
  private readonly owned = new Map<string, { type: string; id: string; key: string; value: string }>();
  /** The API URL of the node currently connected to. */
  current: string;
  readonly counters = { messages: 0, bytes: 0, malformed: 0 };

  constructor(readonly apiUrls: string[]) {
    super();
    if (apiUrls.length === 0) throw new Error('no cluster URL');
    this.current = apiUrls[0]!;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const api = this.apiUrls[this.next % this.apiUrls.length]!;
    this.next++;
    const u = new URL(api);
    const ws = new WebSocket(`${u.protocol === 'https:' ? 'wss' : 'ws'}://${u.host}/topology`);
    this.ws = ws;
    ws.on('open', () => {
      this.current = api;
      for (const s of this.subs.values()) this.send(s);
      for (const s of this.owned.values()) this.send({ op: 'setState', ...s });
      this.emit('connected', api);
    });
    ws.on('message', (d) => {
      const text = d.toString();
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
      this.emit('message', m as TopologyMessage);
    });
    ws.on('close', () => {
      if (this.ws === ws) this.ws = null;
      this.emit('disconnected');
      if (!this.stopped) setTimeout(() => this.connect(), 500);
    });
    ws.on('error', () => ws.terminate());
  }

  private send(m: Request): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ ...m, req: ++this.req }));
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
    this.owned.set(`${type}/${id}/${key}`, { type, id, key, value });
    this.send({ op: 'setState', type, id, key, value });
  }

  deleteState(type: string, id: string, key: string): void {
    this.owned.delete(`${type}/${id}/${key}`);
    this.send({ op: 'deleteState', type, id, key });
  }

  close(): void {
    this.stopped = true;
    this.ws?.close();
  }
}
