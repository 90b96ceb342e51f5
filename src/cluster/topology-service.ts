import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Change, StateKey, Unsubscribe } from '../nsdb/backend.ts';
import type { Store } from '../nsdb/store.ts';

export const TOPOLOGY_PATH = '/topology';

/** What a subscriber sends. `req` is echoed in the ack or error so clients can match answers. */
export type TopologyRequest =
  | { op: 'watch'; req?: number; type: string; id: string }
  | { op: 'watchType'; req?: number; type: string }
  /** Ends a subscription: of an object (id), a type (no id), a state key (key) or a state directory (key, dir). */
  | { op: 'unwatch'; req?: number; type: string; id?: string; key?: string; dir?: boolean }
  | { op: 'watchState'; req?: number; type: string; id: string; key: string }
  | { op: 'watchStateDir'; req?: number; type: string; id: string; key: string }
  | { op: 'setState'; req?: number; type: string; id: string; key: string; value: string }
  | { op: 'deleteState'; req?: number; type: string; id: string; key: string };

/** What the service sends: acks, object updates/deletes in commit order, state values, errors. */
export type TopologyMessage =
  | { op: 'ack'; req?: number }
  | { op: 'error'; req?: number; message: string }
  | { op: 'update'; type: string; id: string; version: number; value: unknown }
  | { op: 'delete'; type: string; id: string }
  | { op: 'state'; type: string; id: string; key: string; value: string | null };

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 512;

function parse(m: Record<string, unknown>): TopologyRequest {
  const need = (...keys: string[]) => {
    for (const k of keys) if (!isStr(m[k])) throw new Error(`${String(m.op)}: field ${k} must be a non-empty string`);
  };
  switch (m.op) {
    case 'watch': need('type', 'id'); break;
    case 'watchType': need('type'); break;
    case 'unwatch': need('type'); break;
    case 'watchState': case 'watchStateDir': case 'deleteState': need('type', 'id', 'key'); break;
    case 'setState': need('type', 'id', 'key'); if (typeof m.value !== 'string') throw new Error('setState: value must be a string'); break;
    default: throw new Error(`unknown op ${JSON.stringify(m.op)}`);
  }
  if (m.req !== undefined && typeof m.req !== 'number') throw new Error('req must be a number');
  return m as unknown as TopologyRequest;
}

/** One agent's connection: its subscriptions and the state keys it owns. */
class Session {
  readonly id = `ws-${randomUUID()}`;
  private readonly subs = new Map<string, Unsubscribe>();

  constructor(
    private readonly ws: WebSocket,
    private readonly store: Store,
  ) {}

  send(m: TopologyMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }

  private onChange = (c: Change) =>
    this.send(c.value ? { op: 'update', type: c.type, id: c.id, version: c.value.version, value: c.value.value } : { op: 'delete', type: c.type, id: c.id });

  private subscribe(key: string, start: () => Unsubscribe): void {
    if (!this.subs.has(key)) this.subs.set(key, start());
  }

  async handle(raw: string): Promise<void> {
    let m: TopologyRequest;
    let req: number | undefined;
    try {
      const json: unknown = JSON.parse(raw);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('expected a JSON object');
      const obj = json as Record<string, unknown>;
      if (typeof obj.req === 'number') req = obj.req;
      m = parse(obj);
    } catch (err) {
      this.send({ op: 'error', req, message: `bad request: ${(err as Error).message}` });
      return;
    }
    try {
      const state: StateKey | null = m.op !== 'unwatch' && 'key' in m ? { type: m.type, id: m.id, key: m.key } : null;
      switch (m.op) {
        case 'watch':
          this.subscribe(`o/${m.type}/${m.id}`, () => this.store.watch(m.type, m.id, this.onChange));
          break;
        case 'watchType':
          this.subscribe(`t/${m.type}`, () => this.store.watchType(m.type, this.onChange));
          break;
        case 'unwatch': {
          const key = m.key !== undefined ? `${m.dir ? 'd' : 's'}/${m.type}/${m.id}/${m.key}` : m.id ? `o/${m.type}/${m.id}` : `t/${m.type}`;
          this.subs.get(key)?.();
          this.subs.delete(key);
          break;
        }
        case 'watchState':
          this.subscribe(`s/${m.type}/${m.id}/${m.key}`, () =>
            this.store.watchState(state!, (value) => this.send({ op: 'state', type: m.type, id: m.id, key: m.key, value })),
          );
          break;
        case 'watchStateDir':
          // Each key below arrives as a state message of its own, as if watched one by one.
          this.subscribe(`d/${m.type}/${m.id}/${m.key}`, () =>
            this.store.watchStateDir(state!, (name, value) => this.send({ op: 'state', type: m.type, id: m.id, key: `${m.key}/${name}`, value })),
          );
          break;
        case 'setState':
          await this.store.setState(state!, m.value, this.id);
          break;
        case 'deleteState':
          await this.store.deleteState(state!);
          break;
      }
      this.send({ op: 'ack', req: m.req });
    } catch (err) {
      this.send({ op: 'error', req: m.req, message: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    for (const off of this.subs.values()) off();
    this.subs.clear();
    await this.store.endSession(this.id);
  }
}

/**
 * The stream agents follow the topology on (design.md §1): subscribe to objects or whole types,
 * get the current values and then every change in order, and own state keys (host alive, port
 * active) that vanish when the connection does.
 */
export function attachTopologyService(server: Server, store: Store): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sessions = new Set<Session>();
  server.on('upgrade', (req, socket: Duplex, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TOPOLOGY_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new Session(ws, store);
      sessions.add(session);
      // Requests are handled one at a time so acks and updates keep the order they were asked in.
      let chain = Promise.resolve();
      ws.on('message', (data) => {
        chain = chain.then(() => session.handle(data.toString()));
      });
      ws.on('close', () => {
        sessions.delete(session);
        chain = chain.then(() => session.close());
      });
      ws.on('error', () => ws.terminate());
    });
  });
  return {
    close: async () => {
      for (const s of sessions) await s.close();
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
