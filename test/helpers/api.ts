import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MockAuthService, type AuthService } from '../../src/cluster/api/auth.ts';
import { buildApi } from '../../src/cluster/api/server.ts';
import { openStore } from '../../src/nsdb/open.ts';
import type { Store } from '../../src/nsdb/store.ts';

export const BASE = 'http://localhost:80/midonet-api';
export const V = (name: string) => `application/vnd.org.midonet.${name}+json`;

export interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  // Tests walk DTOs of every shape; typing each would restate the API in the tests.
  json: any;
}

export interface ReqOpts {
  body?: unknown;
  /** Content-Type of the body (default application/json). */
  type?: string;
  accept?: string;
  headers?: Record<string, string>;
}

/** The real API (fastify app + embedded NSDB on disk) driven through fastify's HTTP injection. */
export class ApiFixture {
  private constructor(
    readonly app: FastifyInstance,
    readonly store: Store,
    private readonly dir: string,
  ) {}

  /** `auth`: the provider, or how to make it over the fixture's NSDB. */
  static async start(auth: AuthService | ((store: Store) => AuthService) = new MockAuthService()): Promise<ApiFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'api-'));
    const store = await openStore({ kind: 'embedded', dataDir: dir });
    const app = buildApi({ store, auth: typeof auth === 'function' ? auth(store) : auth });
    await app.ready();
    return new ApiFixture(app, store, dir);
  }

  async req(method: string, path: string, o: ReqOpts = {}): Promise<Res> {
    const url = path.startsWith('http') ? path.replace('http://localhost:80', '') : `/midonet-api${path}`;
    const headers: Record<string, string> = { accept: o.accept ?? '*/*', ...o.headers };
    let payload: string | undefined;
    if (o.body !== undefined) {
      payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = o.type ?? 'application/json';
    }
    const r = await this.app.inject({ method: method as 'GET', url, headers, payload });
    let json: unknown;
    try {
      json = r.body ? JSON.parse(r.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body: r.body, json };
  }

  /** POSTs and returns the created entity's id (from Location). */
  async create(path: string, body: unknown, type?: string): Promise<string> {
    const r = await this.req('POST', path, { body, type });
    if (r.status !== 201) throw new Error(`POST ${path} -> ${r.status} ${r.body}`);
    return String(r.headers.location).split('/').pop()!;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
