import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Role = 'admin' | 'tenant_admin' | 'tenant_user';

export interface User {
  name: string;
  tenantId: string;
  roles: Role[];
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

/** MidoNet's AuthService: login, token check, and the tenants the provider knows. */
export interface AuthService {
  authenticate(user: string, password: string, project: string | undefined): Token | null;
  /** The user a token stands for, or null (401). */
  authorize(token: string | undefined): User | null;
  tenants(): Tenant[];
  tenant(id: string): Tenant | null;
}

const ADMIN: User = { name: 'admin', tenantId: 'admin', roles: ['admin'] };

/** MidoNet's default MockAuthService: every request is the admin, the token is "00000000". */
export class MockAuthService implements AuthService {
  authenticate(): Token {
    return { key: '00000000', expires: null };
  }

  authorize(): User {
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
  users: { name: string; password: string; tenantId?: string; roles?: Role[] }[];
  /** Seconds a token stays valid (default 3600). */
  tokenLifetime?: number;
  tenants?: Tenant[];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Users and passwords from a JSON file (`--auth-file`), tokens that expire. For sites without
 * Keystone that still want the API closed.
 */
export class StaticAuthService implements AuthService {
  private readonly tokens = new Map<string, { user: User; expires: Date }>();
  private readonly lifetimeMs: number;

  constructor(
    private readonly creds: CredentialsFile,
    private readonly now: () => number = Date.now,
  ) {
    this.lifetimeMs = (creds.tokenLifetime ?? 3600) * 1000;
  }

  static fromFile(path: string): StaticAuthService {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as CredentialsFile;
    if (!Array.isArray(parsed.users)) throw new Error(`${path}: expected {"users": [{"name", "password"}]}`);
    return new StaticAuthService(parsed);
  }

  authenticate(name: string, password: string, project: string | undefined): Token | null {
    const u = this.creds.users.find((x) => x.name === name && sameSecret(x.password, password));
    if (!u) return null;
    const key = randomBytes(24).toString('hex');
    const expires = new Date(this.now() + this.lifetimeMs);
    this.tokens.set(key, { user: { name: u.name, tenantId: project ?? u.tenantId ?? 'admin', roles: u.roles ?? ['admin'] }, expires });
    return { key, expires };
  }

  authorize(token: string | undefined): User | null {
    if (!token) return null;
    const t = this.tokens.get(token);
    if (!t) return null;
    if (t.expires.getTime() <= this.now()) {
      this.tokens.delete(token);
      return null;
    }
    return t.user;
  }

  tenants(): Tenant[] {
    const known = this.creds.tenants ?? [];
    const fromUsers = [...new Set(this.creds.users.map((u) => u.tenantId ?? 'admin'))]
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
