import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Store } from '../../nsdb/store.ts';

export type Role = 'admin' | 'tenant_admin' | 'tenant_user' | 'host';

export interface User {
  name: string;
  tenantId: string;
  roles: Role[];
  /** An agent's credential: the host it stands for (role `host`). */
  hostId?: string;
}

export interface Token {
  key: string;
  /** null: never expires. */
  expires: Date | null;
}

export interface Tenant {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
}

/** Too many failed logins for this user or address: try again after `retryAfter` seconds. */
export class LoginThrottled extends Error {
  constructor(readonly retryAfter: number) {
    super(`Too many failed logins: try again in ${retryAfter} s`);
  }
}

/** MidoNet's AuthService: login, token check, and the tenants the provider knows. */
export interface AuthService {
  /** Whether credentials are checked at all (MidoNet's mock provider lets everyone in as admin). */
  readonly enforced: boolean;
  /** A token for good credentials, null for bad ones; throws LoginThrottled while this user or address must wait. */
  authenticate(user: string, password: string, project: string | undefined, from: string): Promise<Token | null>;
  /** The user a token stands for, or null (401). */
  authorize(token: string | undefined): Promise<User | null>;
  /** A token for a known user without their password, for the cluster's own calls on their behalf; null if unknown. */
  issue(user: string): Promise<Token | null>;
  tenants(): Tenant[];
  tenant(id: string): Tenant | null;
}

const ADMIN: User = { name: 'admin', tenantId: 'admin', roles: ['admin'] };

/** MidoNet's default MockAuthService: every request is the admin, the token is "00000000". */
export class MockAuthService implements AuthService {
  readonly enforced = false;

  async authenticate(): Promise<Token> {
    return { key: '00000000', expires: null };
  }

  issue(): Promise<Token> {
    return this.authenticate();
  }

  async authorize(): Promise<User> {
    return ADMIN;
  }

  tenants(): Tenant[] {
    return [{ id: 'admin', name: 'admin', description: 'Admin Tenant', enabled: true }];
  }

  tenant(id: string): Tenant {
    return { id, name: id, description: id, enabled: true };
  }
}

export interface CredentialsFile {
  /** People and agents: an agent's entry has the role `host` and its host's id. */
  users: { name: string; password: string; tenantId?: string; roles?: Role[]; hostId?: string }[];
  /** Seconds a token stays valid (default 3600). */
  tokenLifetime?: number;
  tenants?: Tenant[];
}

/** Equal-time comparison of two secrets of any length (their digests are compared). */
function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** Tokens live in the NSDB under their digest, so every cluster process knows them and a restart keeps them. */
const TOKEN_TYPE = 'AuthToken';
interface StoredToken {
  id: string;
  user: User;
  expires: number;
}
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/** How long a token the NSDB confirmed is trusted before it is read again (a revocation takes this long). */
const CONFIRMED_MS = 5_000;
/** Failed logins allowed before each further one makes the user and the address wait, doubling to at most MAX_WAIT_S. */
const FREE_FAILURES = 5;
const MAX_WAIT_S = 300;

/**
 * Users and passwords from a JSON file (`--auth-file`), tokens that expire, kept in the NSDB.
 * For sites without Keystone that still want the API closed; agents log in with a `host` entry.
 */
export class StaticAuthService implements AuthService {
  readonly enforced = true;
  private readonly lifetimeMs: number;
  private readonly confirmed = new Map<string, { user: User; expires: number; until: number }>();
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly creds: CredentialsFile,
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    this.lifetimeMs = (creds.tokenLifetime ?? 3600) * 1000;
  }

  static fromFile(path: string, store: Store): StaticAuthService {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as CredentialsFile;
    if (!Array.isArray(parsed.users)) throw new Error(`${path}: expected {"users": [{"name", "password"}]}`);
    for (const u of parsed.users) {
      if (u.roles?.includes('host') && !u.hostId) throw new Error(`${path}: user ${u.name} has the role host but no hostId`);
    }
    return new StaticAuthService(parsed, store);
  }

  /** Seconds this user or address must still wait, 0 if none. */
  private waiting(keys: string[]): number {
    const now = this.now();
    const until = Math.max(0, ...keys.map((k) => this.failures.get(k)?.until ?? 0));
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  private failed(keys: string[]): void {
    const now = this.now();
    for (const k of keys) {
      const f = this.failures.get(k) ?? { count: 0, until: 0 };
      f.count++;
      if (f.count > FREE_FAILURES) f.until = now + Math.min(MAX_WAIT_S, 2 ** (f.count - FREE_FAILURES)) * 1000;
      this.failures.set(k, f);
    }
  }

  async authenticate(name: string, password: string, project: string | undefined, from: string): Promise<Token | null> {
    const keys = [`user:${name}`, `addr:${from}`];
    const wait = this.waiting(keys);
    if (wait > 0) throw new LoginThrottled(wait);
    // Every user is compared, so the time taken says nothing about which names exist.
    let found: CredentialsFile['users'][number] | undefined;
    for (const u of this.creds.users) if (sameSecret(u.name, name) && sameSecret(u.password, password)) found = u;
    if (!found) {
      this.failed(keys);
      return null;
    }
    for (const k of keys) this.failures.delete(k);
    return this.tokenOf(found, project);
  }

  async issue(name: string): Promise<Token | null> {
    const found = this.creds.users.find((u) => u.name === name);
    return found ? this.tokenOf(found, undefined) : null;
  }

  private async tokenOf(found: CredentialsFile['users'][number], project: string | undefined): Promise<Token> {
    const key = randomBytes(24).toString('hex');
    const expires = this.now() + this.lifetimeMs;
    const user: User = { name: found.name, tenantId: project ?? found.tenantId ?? 'admin', roles: found.roles ?? ['admin'], ...(found.hostId ? { hostId: found.hostId } : {}) };
    await this.store.tx((tx) => tx.create(TOKEN_TYPE, { id: digest(key), user, expires } satisfies StoredToken));
    return { key, expires: new Date(expires) };
  }

  async authorize(token: string | undefined): Promise<User | null> {
    if (!token || token.length > 256) return null;
    const id = digest(token);
    const now = this.now();
    let t = this.confirmed.get(id);
    if (!t || t.until <= now) {
      const stored = await this.store.tryGet<StoredToken>(TOKEN_TYPE, id);
      if (!stored) {
        this.confirmed.delete(id);
        return null;
      }
      t = { user: stored.user, expires: stored.expires, until: now + CONFIRMED_MS };
      this.confirmed.set(id, t);
    }
    if (t.expires <= now) {
      this.confirmed.delete(id);
      await this.store.tx((tx) => tx.delete(TOKEN_TYPE, id, true)).catch(() => undefined);
      return null;
    }
    return t.user;
  }

  tenants(): Tenant[] {
    const known = this.creds.tenants ?? [];
    const fromUsers = [...new Set(this.creds.users.filter((u) => !u.roles?.includes('host')).map((u) => u.tenantId ?? 'admin'))]
      .filter((id) => !known.some((t) => t.id === id))
      .map((id) => ({ id, name: id, description: id, enabled: true }));
    return [...known, ...fromUsers];
  }

  tenant(id: string): Tenant | null {
    return this.tenants().find((t) => t.id === id) ?? null;
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');

/** MidoNet's token expiry format: "EEE, dd-MM-yyyy HH:mm:ss z" in UTC. */
export function formatExpiry(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${two(d.getUTCMonth() + 1)}-${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`;
}
