import type { Flat } from '../../conf/hocon.ts';
import type { AuthService, Role, Tenant, Token, User } from './auth.ts';

/** mn-conf's cluster.auth.provider_class naming MidoNet's Keystone provider. */
export const KEYSTONE_PROVIDER = 'org.midonet.cluster.auth.keystone.KeystoneService';

export interface KeystoneConfig {
  /** The identity API's root, e.g. http://keystone:5000 (`/v3` is added). */
  url: string;
  domainId: string;
  /** The project a login without one is scoped to (cluster.auth.keystone.tenant_name). */
  tenantName: string;
  /** The cluster's own service user, to validate tokens, when no admin token is configured. */
  userName: string;
  userPassword: string;
  adminToken: string;
  roles: { admin: string; tenantAdmin: string; tenantUser: string };
}

/** The Keystone settings mn-conf holds (its runtime view: schema defaults under what is set), or null when the provider is not Keystone. */
export function keystoneConfig(c: Flat): KeystoneConfig | null {
  if (c['cluster.auth.provider_class'] !== KEYSTONE_PROVIDER) return null;
  const s = (k: string) => String(c[k] ?? '');
  const url = s('cluster.auth.keystone.url') || `${s('cluster.auth.keystone.protocol')}://${s('cluster.auth.keystone.host')}:${s('cluster.auth.keystone.port')}`;
  return {
    url: url.replace(/\/+$/, '').replace(/\/v3$/, ''),
    domainId: s('cluster.auth.keystone.domain_id'),
    tenantName: s('cluster.auth.keystone.tenant_name'),
    userName: s('cluster.auth.keystone.user_name'),
    userPassword: s('cluster.auth.keystone.user_password'),
    adminToken: s('cluster.auth.keystone.admin_token'),
    roles: { admin: s('cluster.auth.admin_role'), tenantAdmin: s('cluster.auth.tenant_admin_role'), tenantUser: s('cluster.auth.tenant_user_role') },
  };
}

/** How long a validated token is trusted before Keystone is asked again (a revocation takes this long). */
const VALIDATED_MS = 10_000;
const PROJECTS_MS = 60_000;

interface KeystoneToken {
  token: { expires_at: string; user: { name: string }; project?: { id: string }; roles?: { name: string }[] };
}

/**
 * MidoNet's Keystone provider: a login is a Keystone password login (v3) scoped to the project
 * asked for or the configured one; a token is whatever Keystone validates, its roles mapped by
 * cluster.auth.{admin,tenant_admin,tenant_user}_role. The cluster validates with the configured
 * admin token, else with its own service user's token.
 */
export class KeystoneAuthService implements AuthService {
  readonly enforced = true;
  private readonly validated = new Map<string, { user: User; until: number }>();
  private service: { key: string; until: number } | null = null;
  private projects: Tenant[] = [];
  private projectsAt = 0;

  constructor(
    private readonly cfg: KeystoneConfig,
    private readonly now: () => number = Date.now,
  ) {
    void this.refreshProjects().catch(() => undefined);
  }

  private async login(name: string, password: string, project: string): Promise<Token | null> {
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name, password, domain: { id: this.cfg.domainId } } } },
        // Clients name the project or give its id (networking-midonet's project_id).
        scope: { project: /^[0-9a-f]{32}$/.test(project) ? { id: project } : { name: project, domain: { id: this.cfg.domainId } } },
      },
    };
    const r = await fetch(`${this.cfg.url}/v3/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status === 401 || r.status === 404 || r.status === 400) return null;
    if (r.status !== 201) throw new Error(`Keystone answered ${r.status} to a login`);
    const key = r.headers.get('x-subject-token');
    const t = (await r.json()) as KeystoneToken;
    return key ? { key, expires: new Date(t.token.expires_at) } : null;
  }

  authenticate(user: string, password: string, project: string | undefined): Promise<Token | null> {
    return this.login(user, password, project || this.cfg.tenantName);
  }

  /** The token the cluster validates others with. */
  private async serviceToken(): Promise<string> {
    if (this.cfg.adminToken) return this.cfg.adminToken;
    if (this.service && this.service.until > this.now()) return this.service.key;
    const t = await this.login(this.cfg.userName, this.cfg.userPassword, this.cfg.tenantName);
    if (!t) throw new Error('the cluster cannot log in to Keystone (cluster.auth.keystone.user_name, user_password)');
    this.service = { key: t.key, until: Math.min(t.expires?.getTime() ?? Infinity, this.now() + 3_600_000) - 60_000 };
    return t.key;
  }

  async authorize(token: string | undefined): Promise<User | null> {
    if (!token || token.length > 1024) return null;
    const now = this.now();
    const known = this.validated.get(token);
    if (known && known.until > now) return known.user;
    const r = await fetch(`${this.cfg.url}/v3/auth/tokens`, { headers: { 'x-auth-token': await this.serviceToken(), 'x-subject-token': token } });
    if (r.status !== 200) {
      this.validated.delete(token);
      if (r.status === 401 || r.status === 404) return null;
      throw new Error(`Keystone answered ${r.status} to a token check`);
    }
    const t = ((await r.json()) as KeystoneToken).token;
    const names = new Set((t.roles ?? []).map((x) => x.name));
    const { admin, tenantAdmin, tenantUser } = this.cfg.roles;
    const roles: Role[] = names.has(admin) ? ['admin'] : names.has(tenantAdmin) ? ['tenant_admin'] : names.has(tenantUser) ? ['tenant_user'] : [];
    const user: User = { name: t.user.name, tenantId: t.project?.id ?? '', roles };
    this.validated.set(token, { user, until: Math.min(now + VALIDATED_MS, Date.parse(t.expires_at)) });
    if (now - this.projectsAt > PROJECTS_MS) void this.refreshProjects().catch(() => undefined);
    return user;
  }

  /** Keystone users' passwords are not the cluster's: it cannot act as one of them. */
  async issue(): Promise<Token | null> {
    return null;
  }

  private async refreshProjects(): Promise<void> {
    this.projectsAt = this.now();
    const r = await fetch(`${this.cfg.url}/v3/projects`, { headers: { 'x-auth-token': await this.serviceToken() } });
    if (r.status !== 200) return;
    const { projects } = (await r.json()) as { projects: { id: string; name: string; description?: string; enabled?: boolean }[] };
    this.projects = projects.map((p) => ({ id: p.id, name: p.name, description: p.description ?? '', enabled: p.enabled !== false }));
  }

  tenants(): Tenant[] {
    return this.projects;
  }

  tenant(id: string): Tenant | null {
    return this.projects.find((p) => p.id === id) ?? null;
  }
}
