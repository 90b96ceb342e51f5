import { MockAuthService } from '../../src/cluster/api/auth.ts';
import { NT } from '../../src/model/neutron.ts';
import { buildNeutronApi } from '../../src/cluster/neutron/v2-server.ts';
import { T } from '../../src/model/types.ts';
import type { Store } from '../../src/nsdb/store.ts';
import { ApiFixture } from './api.ts';

/** Every stored object, MidoNet's and Neutron's, by type: what a test compares before and after. */
export async function everything(store: Store): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const type of [...Object.values(T), ...Object.values(NT)]) {
    const ids = (await store.getAll<{ id: string }>(type)).map((o) => o.id).sort();
    if (ids.length > 0) out[type] = ids;
  }
  return out;
}

/** Every stored object in full, for checking that a refused request changed nothing. */
export async function dump(store: Store): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const type of [...Object.values(T), ...Object.values(NT)]) {
    out[type] = (await store.getAll<{ id: string }>(type)).sort((a, b) => a.id.localeCompare(b.id));
  }
  return out;
}

export interface NeutronRes {
  status: number;
  // Neutron bodies of every resource; typing each would restate the API in the tests.
  json: any;
}

/** The Neutron v2.0 API and the MidoNet API on one embedded NSDB, driven by fastify injection. */
export class NeutronFixture {
  private constructor(
    readonly midonet: ApiFixture,
    private readonly app: ReturnType<typeof buildNeutronApi>,
  ) {}

  static async start(): Promise<NeutronFixture> {
    const midonet = await ApiFixture.start();
    const app = buildNeutronApi(midonet.store, new MockAuthService());
    await app.ready();
    return new NeutronFixture(midonet, app);
  }

  get store(): Store {
    return this.midonet.store;
  }

  async req(method: string, path: string, body?: unknown): Promise<NeutronRes> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const r = await this.app.inject({ method: method as 'GET', url: path, payload, headers: payload ? { 'content-type': 'application/json' } : {} });
    return { status: r.statusCode, json: r.body ? JSON.parse(r.body) : undefined };
  }

  /** POSTs one object and answers it; fails the test unless it was created. */
  async create(collection: string, key: string, body: Record<string, unknown>): Promise<any> {
    const r = await this.req('POST', `/v2.0/${collection}`, { [key]: body });
    if (r.status !== 201) throw new Error(`POST ${collection}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json[key];
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.midonet.close();
  }
}
