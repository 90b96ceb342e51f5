import { messageOfErrorBody } from '../../cluster/api/errors.ts';
import { login } from '../../conf/credentials.ts';
import type { Dto } from './types.ts';

/** The MidoNet REST API as midonet-cli uses it: login, vendor media types, MidoNet's error messages. */


export class ApiFailure extends Error {}

const VND = (name: string) => `application/vnd.org.midonet.${name}+json`;

export class ApiClient {
  private token: string | null = null;

  constructor(readonly base: string) {}

  async login(user: string, password: string, project: string | null): Promise<void> {
    try {
      this.token = await login(this.base, { username: user, password, ...(project ? { project } : {}) });
    } catch (err) {
      throw new ApiFailure((err as Error).message.replace(/^login to \S+ /, 'login '));
    }
  }

  private async call(method: string, url: string, media: string | null, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (media) headers[body === undefined ? 'accept' : 'content-type'] = VND(media);
    if (this.token) headers['x-auth-token'] = this.token;
    const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (r.status >= 400) {
      const message = messageOfErrorBody(await r.text()) || r.statusText;
      throw new ApiFailure(message || `HTTP ${r.status}`);
    }
    return r;
  }

  url(path: string): string {
    return path.startsWith('http') ? path : `${this.base}${path}`;
  }

  async get(path: string, media: string): Promise<Dto> {
    return (await (await this.call('GET', this.url(path), media)).json()) as Dto;
  }

  /** A collection; `tenant` filters it as MidoNet's `?tenant_id=` does. */
  async list(path: string, media: string, tenant: string | null = null): Promise<Dto[]> {
    const url = new URL(this.url(path));
    if (tenant) url.searchParams.set('tenant_id', tenant);
    return (await (await this.call('GET', url.href, media)).json()) as Dto[];
  }

  /** POSTs and returns the new object (GET of its Location), as midonet-cli does. */
  async create(path: string, media: string, body: Dto): Promise<Dto> {
    const r = await this.call('POST', this.url(path), media, body);
    const location = r.headers.get('location');
    if (!location) throw new ApiFailure('the API did not say where the new object is');
    return this.get(location, media);
  }

  async update(uri: string, media: string, body: Dto): Promise<void> {
    await this.call('PUT', uri, media, body);
  }

  async remove(uri: string): Promise<void> {
    await this.call('DELETE', uri, null);
  }
}
