import { ApiError } from '../errors.ts';
import { ok, type Ctx, type Endpoint, type Route } from '../http.ts';
import { media, vnd } from '../media.ts';
import { getEndpoint, link, notImplemented } from './common.ts';

/**
 * The root document's entries, path -> [collection key, template key], exactly MidoNet's set
 * (its ApplicationResource: every @ApiResource sorted by path).
 */
const ROOT_KEYS: [string, string | null, string | null][] = [
  ['bgp_networks', null, 'bgpNetworkTemplate'],
  ['bgp_peers', null, 'bgpPeerTemplate'],
  ['bridges', 'bridges', 'bridgeTemplate'],
  ['chains', 'chains', 'chainTemplate'],
  ['conf', null, null],
  ['health_monitors', 'healthMonitors', 'healthMonitorTemplate'],
  ['hosts', 'hosts', 'hostTemplate'],
  ['ip_addr_groups', 'ipAddrGroups', 'ipAddrGroupTemplate'],
  ['l2insertions', 'l2insertions', 'l2InsertionTemplate'],
  ['load_balancers', 'loadBalancers', 'loadBalancerTemplate'],
  ['mirrors', 'mirrors', 'mirrorTemplate'],
  ['neutron', 'neutron', null],
  ['pool_members', 'poolMembers', 'poolMemberTemplate'],
  ['pools', 'pools', 'poolTemplate'],
  ['port_groups', 'portGroups', 'portGroupTemplate'],
  ['ports', 'ports', 'portTemplate'],
  ['qos_bw_limit_rules', null, 'qosBwLimitRuleTemplate'],
  ['qos_dscp_rules', null, 'qosDscpRuleTemplate'],
  ['qos_policies', 'qosPolicies', 'qosPolicyTemplate'],
  ['routers', 'routers', 'routerTemplate'],
  ['routes', null, 'routeTemplate'],
  ['rules', null, 'ruleTemplate'],
  ['service_container_groups', 'serviceContainerGroups', 'serviceContainerGroupTemplate'],
  ['service_containers', 'serviceContainers', 'serviceContainerTemplate'],
  ['system_state', 'systemState', null],
  ['tenants', 'tenants', 'tenantTemplate'],
  ['traces', 'traceRequests', 'traceRequestTemplate'],
  ['tunnel_zones', 'tunnelZones', 'tunnelZoneTemplate'],
  ['vips', 'vips', 'vipTemplate'],
  ['vteps', 'vteps', 'vtepTemplate'],
];

/** Root paths MidoNet serves that this server does not implement yet. */
const NOT_YET: [string, string][] = [
  ['health_monitors', 'Health monitors'], ['l2insertions', 'L2 insertions'], ['load_balancers', 'Load balancers'],
  ['mirrors', 'Mirrors'], ['pool_members', 'Pool members'], ['pools', 'Pools'],
  ['qos_bw_limit_rules', 'QoS rules'], ['qos_dscp_rules', 'QoS rules'], ['qos_policies', 'QoS policies'],
  ['service_container_groups', 'Service container groups'], ['service_containers', 'Service containers'],
  ['traces', 'Trace requests'], ['vips', 'VIPs'], ['vteps', 'VTEPs'],
  ['bridges/:id/dhcpV6', 'DHCPv6'], ['routers/:id/ports/:pid/peering_table', 'Peering tables'],
];

function rootDocument(ctx: Ctx): Record<string, unknown> {
  const doc: Record<string, unknown> = { uri: `${ctx.base}/`, version: 'v5.0' };
  for (const [path, coll, template] of ROOT_KEYS) {
    if (coll) doc[coll] = `${ctx.base}/${path}`;
    if (template) doc[template] = `${ctx.base}/${path}/{id}`;
  }
  return doc;
}

const TENANT = { name: 'Tenant', versions: [2], json: { get: false, list: false, write: false } };
const unmodifiable: Endpoint = {
  handle: async () => {
    throw new ApiError(405, 'Tenants are unmodifiable through this API');
  },
};

function renderTenant(ctx: Ctx, t: { id: string; name: string; description: string; enabled: boolean }) {
  const q = `?tenant_id=${encodeURIComponent(t.id)}`;
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    enabled: t.enabled,
    uri: link(ctx, 'tenants', t.id),
    routers: `${ctx.base}/routers${q}`,
    bridges: `${ctx.base}/bridges${q}`,
    chains: `${ctx.base}/chains${q}`,
    portGroups: `${ctx.base}/port_groups${q}`,
  };
}

export function rootRoutes(): Route[] {
  return [
    { path: '', get: { media: media(vnd('Application', 5)), handle: async (ctx) => ok(rootDocument(ctx)) } },
    {
      path: '/system_state',
      get: getEndpoint({ name: 'SystemState', versions: [2] }, 'get', async (ctx) => ({
        state: 'ACTIVE',
        availability: ctx.store.backend.available ? 'READWRITE' : 'READONLY',
        version: '5.0.0',
        information: ctx.store.backend.available ? null : 'The NSDB is not reachable: its session is being renewed',
        uri: `${ctx.base}/system_state`,
      })),
    },
    {
      path: '/tenants',
      get: getEndpoint(TENANT, 'list', async (ctx) => ctx.auth.tenants().map((t) => renderTenant(ctx, t))),
      post: unmodifiable,
    },
    {
      path: '/tenants/:id',
      get: getEndpoint(TENANT, 'get', async (ctx) => {
        const t = ctx.auth.tenant(ctx.params.id!);
        if (!t) throw new ApiError(404, `Tenant ${ctx.params.id} not found`);
        return renderTenant(ctx, t);
      }),
      put: unmodifiable,
      delete: unmodifiable,
    },
    ...NOT_YET.flatMap(([path, what]) => notImplemented(path, what)),
  ];
}
