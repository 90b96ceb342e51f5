import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterProcess } from './cluster.ts';

export const ADMIN = { name: 'admin', password: 'adm1n:with:colons' };
export const ALICE = { name: 'alice', password: 'alice-pw', tenantId: 'tenant-a', roles: ['tenant_user'] };
export const BOB = { name: 'bob', password: 'bob-pw', tenantId: 'tenant-b', roles: ['tenant_user'] };

/** A `midonet-cluster` with `--auth-file`: an admin, two project members, and a credential for each of two hosts. */
export class SecureCluster {
  readonly hosts = [randomUUID(), randomUUID()] as const;
  private constructor(
    public cluster: ClusterProcess,
    readonly dir: string,
    private readonly args: string[],
  ) {}

  static async start(extra: string[] = [], dir = mkdtempSync(join(tmpdir(), 'secure-'))): Promise<SecureCluster> {
    const args = ['--auth-file', join(dir, 'users.json'), ...(extra.includes('--zookeeper') ? [] : ['--data-dir', join(dir, 'nsdb')]), ...extra];
    const c = new SecureCluster(null as unknown as ClusterProcess, dir, args);
    writeFileSync(join(dir, 'users.json'), JSON.stringify({
      users: [
        ADMIN, ALICE, BOB,
        ...c.hosts.map((hostId, i) => ({ name: `host-${i + 1}`, password: `host-${i + 1}-pw`, roles: ['host'], hostId })),
      ],
      tokenLifetime: 600,
    }));
    c.cluster = await ClusterProcess.start(args);
    return c;
  }

  /** Stops the cluster process and starts it again on the same NSDB and credentials. */
  async restart(): Promise<void> {
    await this.cluster.stop();
    this.cluster = await ClusterProcess.start(this.args);
  }

  get url(): string {
    return this.cluster.url;
  }

  /** A token for a user (or null when refused), as MidoNet's login gives it. */
  async login(user: string, password: string): Promise<{ status: number; token: string | null; retryAfter: string | null }> {
    const r = await fetch(`${this.url}/login`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
    const token = /sessionId=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1] ?? null;
    return { status: r.status, token, retryAfter: r.headers.get('retry-after') };
  }

  async token(user: string, password: string): Promise<string> {
    const r = await this.login(user, password);
    if (!r.token) throw new Error(`login ${user}: ${r.status}`);
    return r.token;
  }

  /** An API call with a token; JSON in, status and JSON out. */
  async call(token: string, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; json: any; location: string | null }> {
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: { accept: 'application/json', 'x-auth-token': token, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: r.status, json, location: r.headers.get('location') };
  }

  async create(token: string, path: string, body: unknown): Promise<string> {
    const r = await this.call(token, 'POST', path, body);
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.location!.split('/').pop()!;
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
