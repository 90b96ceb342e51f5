/**
 * Neutron's default policy for the resources MidoNet serves: the admin does anything; a project
 * member sees its project's objects and the shared or external networks, changes only its own,
 * never names another project, and leaves the admin's attributes alone. Neutron's answers: 404 for
 * what the caller cannot see, 403 for what it sees but may not do, 400 for another project's id.
 */
import { badRequest, NeutronError, NOT_FOUND } from './errors.ts';
import type { Json } from './service.ts';

/** Who calls: the project and whether as the admin. */
export interface Caller {
  tenant: string;
  admin: boolean;
}

/** Attributes only the admin may set (Neutron's policy.yaml: rule:admin_only). */
const ADMIN_ONLY: Record<string, readonly string[]> = {
  network: ['router:external', 'shared', 'provider:network_type', 'provider:physical_network', 'provider:segmentation_id'],
  port: ['binding:host_id', 'binding:profile'],
  router: ['distributed', 'ha'],
  subnetpool: ['shared', 'is_default'],
};

/** What a new object refers to, and whether the caller must own it or only see it. */
const REFERENCES: Record<string, readonly [field: string, resource: string, need: 'own' | 'see'][]> = {
  port: [['network_id', 'network', 'see']],
  subnet: [['network_id', 'network', 'own'], ['subnetpool_id', 'subnetpool', 'see']],
  floatingip: [['floating_network_id', 'network', 'see'], ['port_id', 'port', 'own']],
  security_group_rule: [['security_group_id', 'security_group', 'own'], ['remote_group_id', 'security_group', 'own']],
};

const forbidden = (rule: string) => new NeutronError(403, 'PolicyNotAuthorized', `(${rule}) is disallowed by policy`);

export const owns = (o: Json, who: Caller): boolean => who.admin || o.tenant_id === who.tenant || o.project_id === who.tenant;

/** Whether the caller may see an object: its own, or a network shared or external (and a shared network's subnets), or a shared subnet pool. */
export function visible(resource: string, o: Json, who: Caller): boolean {
  if (owns(o, who)) return true;
  if (resource === 'network') return o.shared === true || o['router:external'] === true;
  if (resource === 'subnet' || resource === 'subnetpool') return o.shared === true;
  return false;
}

/** Refuses what a non-admin may not write in a create or an update body. */
export function checkBody(resource: string, action: 'create' | 'update', input: Json, who: Caller): void {
  if (who.admin) return;
  for (const k of ['tenant_id', 'project_id']) {
    if (k in input && input[k] !== who.tenant) {
      throw badRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
    }
  }
  for (const attr of ADMIN_ONLY[resource] ?? []) if (attr in input) throw forbidden(`rule:${action}_${resource}:${attr}`);
  if (resource === 'router' && input.external_gateway_info && typeof input.external_gateway_info === 'object' && 'external_fixed_ips' in (input.external_gateway_info as Json)) {
    throw forbidden(`rule:${action}_router:external_gateway_info:external_fixed_ips`);
  }
}

/** The objects a new or changed object points at, to check against the caller: [resource, id, need]. */
export function referencesOf(resource: string, input: Json): [string, string, 'own' | 'see'][] {
  const out: [string, string, 'own' | 'see'][] = [];
  for (const [field, res, need] of REFERENCES[resource] ?? []) if (typeof input[field] === 'string') out.push([res, input[field] as string, need]);
  if (resource === 'port' && Array.isArray(input.security_groups)) {
    for (const g of input.security_groups) if (typeof g === 'string') out.push(['security_group', g, 'own']);
  }
  if (resource === 'router' && input.external_gateway_info && typeof input.external_gateway_info === 'object') {
    const net = (input.external_gateway_info as Json).network_id;
    if (typeof net === 'string') out.push(['network', net, 'see']);
  }
  return out;
}

/** Refuses an object the caller needs and lacks: 404 when it cannot see it, 403 when it only sees it. */
export function checkAccess(resource: string, id: string, o: Json | null, need: 'own' | 'see', who: Caller): void {
  if (who.admin) return;
  if (!o || !visible(resource, o, who)) throw NOT_FOUND[resource]!(id);
  if (need === 'own' && !owns(o, who)) throw forbidden(`rule:update_${resource}`);
}
