import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Change, StateKey, Unsubscribe } from '../nsdb/backend.ts';
import type { Store } from '../nsdb/store.ts';
import { TOPOLOGY_PATH, type TopologyMessage, type TopologyRequest } from '../model/topology-protocol.ts';
import type { AuthService, User } from './api/auth.ts';
import { tokenOf } from './api/server.ts';
import { mayConnect, readRefusal, writeRefusal } from './topology/stream-policy.ts';
import type { ClusterMetrics } from './metrics.ts';
import { log } from '../conf/log.ts';

export { TOPOLOGY_PATH };

const logger = log('topology');

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
    case 'setState': case 'claimState': need('type', 'id', 'key'); if (typeof m.value !== 'string') throw new Error(`${m.op}: value must be a string`); break;
    default: throw new Error(`unknown op ${JSON.stringify(m.op)}`);
  }
  if (m.req !== undefined && typeof m.req !== 'number') throw new Error('req must be a number');
  return m as unknown as TopologyRequest;
}

/** One agent's connection: who it is, its subscriptions and the state keys it owns. */
class Session {
  readonly id = `ws-${randomUUID()}`;
  private readonly subs = new Map<string, Unsubscribe>();
  /** Keys this connection set or claimed: the ones a host may delete. */
  private readonly owns = new Set<string>();
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly store: Store,
    readonly user: User,
    private readonly metrics?: ClusterMetrics,
  ) {}

  send(m: TopologyMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(m));
    this.metrics?.messages.inc();
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
      const refused = readRefusal(this.user, m.op, m.type);
      if (refused) throw new Error(refused);
      const state: StateKey | null = m.op !== 'unwatch' && 'key' in m ? { type: m.type, id: m.id, key: m.key } : null;
      const name = state ? `${state.type}/${state.id}/${state.key}` : '';
      let answer: string | undefined;
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
            this.store.watchStateDir(state!, (n, value) => this.send({ op: 'state', type: m.type, id: m.id, key: `${m.key}/${n}`, value })),
          );
          break;
        case 'setState':
        case 'claimState': {
          const why = await writeRefusal(this.store, this.user, state!, m.value);
          if (why) throw new Error(why);
          if (m.op === 'setState') await this.store.setState(state!, m.value, this.id);
          else answer = (await this.store.claimState(state!, m.value, this.id)) ? 'claimed' : 'taken';
          if (answer !== 'taken') this.owns.add(name);
          break;
        }
        case 'deleteState': {
          if (!this.user.roles.includes('admin') && !this.owns.has(name)) throw new Error(`${name} is not held by this connection`);
          const why = await writeRefusal(this.store, this.user, state!, null);
          if (why) throw new Error(why);
          await this.store.deleteState(state!);
          this.owns.delete(name);
          break;
        }
      }
      this.send({ op: 'ack', req: m.req, ...(answer ? { value: answer } : {}) });
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

/** How often the service checks that each agent still answers; one that missed a whole period is cut. */
const HEARTBEAT_MS = 5_000;

/**
 * The stream agents follow the topology on (design.md §1): subscribe to objects, get the current
 * value and then every change in order, and own state keys (host alive, port active, NAT blocks)
 * that vanish when the connection does. Open only to the admin and to hosts with their own
 * credential; a connection that stops answering pings is closed, so a wedged agent's keys go.
 */
export function attachTopologyService(server: Server, store: Store, auth: AuthService, metrics?: ClusterMetrics): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sessions = new Map<WebSocket, Session>();
  const refuse = (socket: Duplex, status: number, text: string) => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${text}\n`);
  };
  server.on('upgrade', (req, socket: Duplex, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TOPOLOGY_PATH) {
      socket.destroy();
      return;
    }
    void auth.authorize(tokenOf(req)).then((user) => {
      if (!user) return refuse(socket, 401, 'Unauthorized');
      if (!mayConnect(user)) return refuse(socket, 403, 'Forbidden');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new Session(ws, store, user, metrics);
        sessions.set(ws, session);
        metrics?.sessions.set(sessions.size);
        logger.info({ user: user.name, host: user.hostId ?? null }, 'topology stream opened');
        ws.on('pong', () => (session.alive = true));
        // Requests are handled one at a time so acks and updates keep the order they were asked in.
        let chain = Promise.resolve();
        ws.on('message', (data) => {
          chain = chain.then(() => session.handle(data.toString()));
        });
        ws.on('close', () => {
          sessions.delete(ws);
          metrics?.sessions.set(sessions.size);
          logger.info({ user: user.name, host: user.hostId ?? null }, 'topology stream closed');
          chain = chain.then(() => session.close());
        });
        ws.on('error', () => ws.terminate());
      });
    }, () => refuse(socket, 503, 'Service Unavailable'));
  });
  const heartbeat = setInterval(() => {
    for (const [ws, session] of sessions) {
      if (!session.alive) {
        logger.warn({ user: session.user.name, host: session.user.hostId ?? null }, 'topology stream silent for a whole heartbeat: closed');
        ws.terminate();
        continue;
      }
      session.alive = false;
      ws.ping();
    }
  }, HEARTBEAT_MS);
  return {
    close: async () => {
      clearInterval(heartbeat);
      for (const s of sessions.values()) await s.close();
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
