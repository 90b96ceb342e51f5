import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { isUuid } from '../model/net.ts';

export const DEFAULT_BINDING_SOCKET = '/var/run/midolman/midolman.sock';

export interface Binder {
  bind(portId: string, interfaceName: string): Promise<void>;
  unbind(portId: string): Promise<void>;
  /** The agent's counters, for `GET /metrics`. */
  metrics(): Record<string, unknown>;
  /** Without a datapath: a frame (hex) as if it arrived on a bound port, `POST /inject/{portId}`. */
  inject?(portId: string, bytes: Uint8Array): void;
}

/**
 * MidoNet's binding API on a unix socket, as mm-ctl and Nova's VIF driver use it:
 * `PUT /binding/{portId}` with `{"interfaceName": ...}` and `DELETE /binding/{portId}`; and the
 * agent's counters at `GET /metrics`.
 */
export function startBindingApi(path: string, binder: Binder): Promise<Server> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = createServer((req, res) => {
    const answer = (status: number, message?: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(message ? JSON.stringify({ message, code: status }) : undefined);
    };
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(binder.metrics()));
      return;
    }
    const inject = /^\/inject\/([^/?]+)$/.exec(req.url ?? '');
    if (inject && req.method === 'POST' && binder.inject) {
      let hex = '';
      req.on('data', (d) => {
        hex += d;
        if (hex.length > 20000) req.destroy();
      });
      req.on('end', () => {
        if (!/^([0-9a-f]{2})+$/i.test(hex.trim())) return answer(400, 'body must be a frame in hex');
        binder.inject!(decodeURIComponent(inject[1]!), Buffer.from(hex.trim(), 'hex'));
        answer(200);
      });
      return;
    }
    const m = /^\/binding\/([^/?]+)$/.exec(req.url ?? '');
    if (!m) return answer(404, `no such resource ${req.url}`);
    const portId = decodeURIComponent(m[1]!);
    if (!isUuid(portId)) return answer(400, `${portId} is not a port id`);
    let body = '';
    req.on('data', (d) => {
      body += d;
      if (body.length > 65536) req.destroy();
    });
    req.on('end', () => {
      void (async () => {
        try {
          if (req.method === 'PUT') {
            const name = (JSON.parse(body || '{}') as { interfaceName?: unknown }).interfaceName;
            if (typeof name !== 'string' || !/^[^\s/]{1,15}$/.test(name)) return answer(400, 'interfaceName must be an interface name');
            await binder.bind(portId, name);
            return answer(200);
          }
          if (req.method === 'DELETE') {
            await binder.unbind(portId);
            return answer(200);
          }
          answer(405, `method ${req.method} not allowed`);
        } catch (err) {
          answer(err instanceof SyntaxError ? 400 : 500, (err as Error).message);
        }
      })();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}
