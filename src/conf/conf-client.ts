import { messageOfErrorBody } from '../cluster/api/errors.ts';
import { ApiToken, LoginFailed, type Credentials } from './credentials.ts';
import type { ConfAccess, ConfKind } from './conf-store.ts';
import { parseHocon, renderHocon, type Flat } from './hocon.ts';

/** ConfAccess through a cluster's /midonet-api/conf (for the embedded NSDB, which only the cluster opens). */
export class HttpConf implements ConfAccess {
  private readonly token: ApiToken;

  constructor(
    private readonly base: string,
    credentials: Credentials | null = null,
  ) {
    this.token = new ApiToken(base, credentials);
  }

  private async call(method: string, path: string, body?: string): Promise<string> {
    let r: Response;
    try {
      r = await fetch(`${this.base}/conf${path}`, { method, headers: { accept: 'text/plain', 'content-type': 'text/plain', ...(await this.token.headers()) }, body });
    } catch (err) {
      if (err instanceof LoginFailed) throw err;
      throw new Error(`cannot reach the MidoNet cluster at ${this.base}`);
    }
    const text = await r.text();
    if (r.status >= 400) {
      throw new Error(messageOfErrorBody(text) || `HTTP ${r.status}`);
    }
    return text;
  }

  private path(kind: ConfKind, name: string): string {
    return kind === 'schema' ? '/schemas' : `/${kind === 'template' ? 'templates' : 'nodes'}/${encodeURIComponent(name)}`;
  }

  async get(kind: ConfKind, name: string): Promise<Flat> {
    return parseHocon(await this.call('GET', this.path(kind, name)));
  }

  async set(kind: 'template' | 'node', name: string, values: Flat, clear: boolean): Promise<void> {
    await this.call('POST', `${this.path(kind, name)}${clear ? '?clear=true' : ''}`, renderHocon(values));
  }

  async unset(kind: 'template' | 'node', name: string, key: string): Promise<void> {
    await this.call('DELETE', `${this.path(kind, name)}?key=${encodeURIComponent(key)}`);
  }

  async templates(): Promise<string[]> {
    return (await this.call('GET', '/templates')).split('\n').filter(Boolean);
  }

  async mappings(): Promise<Record<string, string>> {
    return (await parseHocon(await this.call('GET', '/template-mappings'))) as Record<string, string>;
  }

  async setMapping(host: string, template: string | null): Promise<void> {
    if (template === null) await this.call('DELETE', `/template-mappings/${host}`);
    else await this.call('POST', `/template-mappings/${host}`, template);
  }

  async runtime(host: string | null): Promise<Flat> {
    if (host) return parseHocon(await this.call('GET', `/runtime/${host}`));
    return { ...(await this.get('schema', '')), ...(await this.get('template', 'default')) };
  }
}
