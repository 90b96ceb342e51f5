/**
 * Per-project quotas (quotas, quota_details): Neutron's default limits, a project's own limits
 * where the admin set them, and what each project uses, counted from the per-project indexes.
 */
import type { Store } from '../../nsdb/store.ts';
import type { Transaction } from '../../nsdb/transaction.ts';
import { indexKey } from '../../nsdb/indexes.ts';
import { byProject } from '../../model/indexes.ts';
import { NT } from '../../model/neutron.ts';
import { badRequest, conflict, NeutronError } from './errors.ts';
import type { Caller } from './policy.ts';

/** Neutron's defaults ([quotas] quota_*): -1 is no limit. */
export const DEFAULT_QUOTAS = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
} as const;

export type QuotaResource = keyof typeof DEFAULT_QUOTAS;
export type Quota = Record<QuotaResource, number>;

/** Store type of a resource counted against a quota. */
const TYPES: Record<QuotaResource, string> = {
  network: NT.Network,
  subnet: NT.Subnet,
  subnetpool: NT.SubnetPool,
  port: NT.Port,
  router: NT.Router,
  floatingip: NT.FloatingIp,
  security_group: NT.SecurityGroup,
  security_group_rule: NT.SecurityGroupRule,
};

/** The limits the admin set for one project, kept only while they differ from the defaults. */
interface ProjectQuota extends Partial<Quota> {
  id: string;
}

const isQuotaResource = (r: string): r is QuotaResource => r in DEFAULT_QUOTAS;

const forbidden = () => new NeutronError(403, 'PolicyNotAuthorized', '(rule:update_quota) is disallowed by policy');

export class Quotas {
  constructor(private readonly store: Store) {}

  /** A project's limits: the admin's, or a member's own. */
  async show(project: string, who: Caller): Promise<Quota> {
    if (!who.admin && project !== who.tenant) throw forbidden();
    const own = await this.store.tryGet<ProjectQuota>(NT.Quota, project);
    return { ...DEFAULT_QUOTAS, ...(own ? withoutId(own) : {}) };
  }

  /** The projects whose limits differ from the defaults, with those limits. */
  async list(who: Caller): Promise<(Quota & { project_id: string; tenant_id: string })[]> {
    if (!who.admin) throw forbidden();
    return (await this.store.getAll<ProjectQuota>(NT.Quota)).map((q) => ({ ...DEFAULT_QUOTAS, ...withoutId(q), project_id: q.id, tenant_id: q.id }));
  }

  async update(project: string, body: unknown, who: Caller): Promise<Quota> {
    if (!who.admin) throw forbidden();
    const given = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).quota : undefined;
    if (given === null || typeof given !== 'object' || Array.isArray(given)) throw badRequest("Unable to find 'quota' in request body");
    const set: Partial<Quota> = {};
    for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
      if (!isQuotaResource(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) throw badRequest(`Invalid input for ${k}. Reason: '${String(v)}' must be an integer of -1 or more.`);
      set[k] = n;
    }
    return this.store.tx(async (tx) => {
      const old = await tx.tryGet<ProjectQuota>(NT.Quota, project);
      const next: ProjectQuota = { ...(old ?? {}), ...set, id: project };
      if (old) await tx.update(NT.Quota, next);
      else await tx.create(NT.Quota, next);
      return { ...DEFAULT_QUOTAS, ...withoutId(next) };
    });
  }

  async reset(project: string, who: Caller): Promise<void> {
    if (!who.admin) throw forbidden();
    await this.store.tx(async (tx) => {
      if (await tx.exists(NT.Quota, project)) await tx.delete(NT.Quota, project);
    });
  }

  /** quota_details: each limit with what the project uses (nothing is held in reservation). */
  async details(project: string, who: Caller): Promise<Record<QuotaResource, { limit: number; used: number; reserved: number }>> {
    const limits = await this.show(project, who);
    const out = {} as Record<QuotaResource, { limit: number; used: number; reserved: number }>;
    for (const r of Object.keys(DEFAULT_QUOTAS) as QuotaResource[]) {
      out[r] = { limit: limits[r], used: (await this.store.lookup(byProject(TYPES[r]), indexKey(project))).length, reserved: 0 };
    }
    return out;
  }
}

/**
 * Refuses one more object of `resource` for `project` once it holds its limit (409 OverQuota),
 * counted as the transaction sees it, its own earlier creates included.
 */
export async function checkQuota(tx: Transaction, resource: string, project: string): Promise<void> {
  if (!isQuotaResource(resource)) return;
  const own = await tx.tryGet<ProjectQuota>(NT.Quota, project);
  const limit = own?.[resource] ?? DEFAULT_QUOTAS[resource];
  if (limit < 0) return;
  const used = (await tx.lookup(byProject(TYPES[resource]), indexKey(project))).length;
  if (used >= limit) throw conflict('OverQuota', `Quota exceeded for resources: ['${resource}'].`);
}

function withoutId(q: ProjectQuota): Partial<Quota> {
  const { id: _project, ...limits } = q;
  return limits;
}
