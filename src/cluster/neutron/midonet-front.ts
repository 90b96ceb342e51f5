/**
 * `/midonet-api/neutron`: the endpoints networking-midonet's MidonetApiClient calls after each
 * Neutron commit, with its vendor media types, on the same Neutron service as the Neutron API.
 */
import { badRequest } from '../api/errors.ts';
import { created, noContent, ok, type Ctx, type Endpoint, type Route } from '../api/http.ts';
import { media, vnd } from '../api/media.ts';
import { notImplemented } from '../api/resources/common.ts';
import { NeutronService, type Writer } from './service.ts';

interface Collection {
  path: string;
  resource: string;
  /** Media type names, single and plural (NeutronMediaType). */
  one: string;
  many: string;
}

const COLLECTIONS: Collection[] = [
  { path: 'networks', resource: 'network', one: 'Network', many: 'Networks' },
  { path: 'subnets', resource: 'subnet', one: 'Subnet', many: 'Subnets' },
  { path: 'ports', resource: 'port', one: 'Port', many: 'Ports' },
  { path: 'routers', resource: 'router', one: 'Router', many: 'Routers' },
  { path: 'floating_ips', resource: 'floatingip', one: 'FloatingIp', many: 'FloatingIps' },
  { path: 'security_groups', resource: 'security_group', one: 'SecurityGroup', many: 'SecurityGroups' },
  { path: 'security_group_rules', resource: 'security_group_rule', one: 'SecurityGroupRule', many: 'SecurityGroupRules' },
];

/** Neutron resources networking-midonet forwards that this server does not translate yet. */
const NOT_YET: [string, string][] = [
  ['lb', 'LBaaS v1'], ['lbs_v2', 'LBaaS v2 load balancers'], ['pools_v2', 'LBaaS v2 pools'], ['pool_members_v2', 'LBaaS v2 members'],
  ['listeners_v2', 'LBaaS v2 listeners'], ['health_monitors_v2', 'LBaaS v2 health monitors'], ['firewalls', 'FWaaS'],
  ['vpnservices', 'VPNaaS'], ['ipsec_site_connections', 'VPNaaS IPsec connections'], ['l2_gateway_connections', 'L2 gateway connections'],
  ['gateway_devices', 'Gateway devices'], ['remote_mac_entries', 'Remote MAC entries'], ['bgp_speakers', 'BGP speakers'],
  ['bgp_peers', 'Neutron BGP peers'], ['tap_flows', 'Tap-as-a-Service flows'], ['tap_services', 'Tap-as-a-Service'],
  ['firewall_logs', 'Firewall logs'], ['logging_resources', 'Logging resources'],
];

const neutronType = (name: string) => vnd(`neutron.${name}`, 1);
const ROOT_TYPE = vnd('neutron.Neutron', 3);

/** The plugin writes as an admin on behalf of the projects named in the objects. */
/** The plugin's front: only the admin reaches the MidoNet API, and Neutron has checked its own policy. */
const writer = (ctx: Ctx): Writer => ({ tenant: ctx.user.tenantId || 'admin', admin: true, trusted: true });
const service = (ctx: Ctx) => new NeutronService(ctx.store);

function rootDocument(ctx: Ctx): Record<string, unknown> {
  const base = `${ctx.base}/neutron`;
  const pair = (key: string, path: string) => ({ [key + 's']: `${base}/${path}`, [`${key}_template`]: `${base}/${path}/{id}` });
  const lb = `${base}/lb`;
  return {
    uri: base,
    ...pair('network', 'networks'),
    ...pair('subnet', 'subnets'),
    ...pair('port', 'ports'),
    ...pair('router', 'routers'),
    // MidoNet's placeholder: the plugin's client substitutes `{id}` and nothing else.
    add_router_interface_template: `${base}/routers/{id}/add_router_interface`,
    remove_router_interface_template: `${base}/routers/{id}/remove_router_interface`,
    ...pair('floating_ip', 'floating_ips'),
    ...pair('security_group', 'security_groups'),
    ...pair('security_group_rule', 'security_group_rules'),
    load_balancer: {
      vips: `${lb}/vips`, vip_template: `${lb}/vips/{id}`, pools: `${lb}/pools`, pool_template: `${lb}/pools/{id}`,
      members: `${lb}/members`, member_template: `${lb}/members/{id}`, health_monitors: `${lb}/health_monitors`,
      health_monitor_template: `${lb}/health_monitors/{id}`, pool_health_monitor: `${lb}/pool_health_monitor`,
    },
    load_balancers_v2: `${base}/lbs_v2`, load_balancer_v2_template: `${base}/lbs_v2/{id}`,
    pools_v2: `${base}/pools_v2`, pool_v2_template: `${base}/pools_v2/{id}`,
    listeners_v2: `${base}/listeners_v2`, listener_v2_template: `${base}/listeners_v2/{id}`,
    pool_members_v2: `${base}/pool_members_v2`, pool_member_v2_template: `${base}/pool_members_v2/{id}`,
    health_monitors_v2: `${base}/health_monitors_v2`, health_monitor_v2_template: `${base}/health_monitors_v2/{id}`,
    ...pair('firewall', 'firewalls'),
    vpn_services: `${base}/vpnservices`, vpn_service_template: `${base}/vpnservices/{id}`,
    ipsec_site_conns: `${base}/ipsec_site_connections`, ipsec_site_conn_template: `${base}/ipsec_site_connections/{id}`,
    ...pair('l2_gateway_connection', 'l2_gateway_connections'),
    ...pair('gateway_device', 'gateway_devices'),
    remote_mac_entries: `${base}/remote_mac_entries`, remote_mac_entry_template: `${base}/remote_mac_entries/{id}`,
    ...pair('bgp_speaker', 'bgp_speakers'),
    ...pair('bgp_peer', 'bgp_peers'),
    ...pair('tap_flow', 'tap_flows'),
    ...pair('tap_service', 'tap_services'),
    ...pair('firewall_log', 'firewall_logs'),
    ...pair('logging_resource', 'logging_resources'),
  };
}

function collectionRoutes(c: Collection): Route[] {
  const one = neutronType(c.one);
  const many = neutronType(c.many);
  const location = (ctx: Ctx, id: string) => `${ctx.base}/neutron/${c.path}/${id}`;
  const post: Endpoint = {
    media: media([one, many], false),
    handle: async (ctx) => {
      const body = ctx.body();
      const bulk = Array.isArray(body);
      // Neutron's database is the authority: the plugin names every object it tells us about.
      for (const b of bulk ? body : [body]) {
        if (b === null || typeof b !== 'object' || typeof (b as { id?: unknown }).id !== 'string') throw badRequest(`A ${c.resource} from Neutron must carry its id`);
      }
      const made = await service(ctx).create(c.resource, bulk ? body : [body], writer(ctx));
      const first = made[0]!;
      return { ...created(bulk ? `${ctx.base}/neutron/${c.path}` : location(ctx, first.id as string), bulk ? made : first), type: bulk ? many : one };
    },
  };
  return [
    {
      path: `/neutron/${c.path}`,
      get: { media: media(many, false), handle: async (ctx) => ok(await service(ctx).list(c.resource, writer(ctx))) },
      post,
    },
    {
      path: `/neutron/${c.path}/:id`,
      get: { media: media(one, false), handle: async (ctx) => ok(await service(ctx).get(c.resource, ctx.params.id!, writer(ctx))) },
      put: {
        media: media(one, false),
        handle: async (ctx) => ({ ...ok(await service(ctx).update(c.resource, ctx.params.id!, ctx.body(), writer(ctx))), type: one }),
      },
      delete: {
        handle: async (ctx) => {
          await service(ctx).remove(c.resource, ctx.params.id!, writer(ctx));
          return noContent();
        },
      },
    },
  ];
}

function interfaceRoute(op: 'add' | 'remove'): Route {
  return {
    path: `/neutron/routers/:id/${op}_router_interface`,
    put: {
      media: media(neutronType('RouterInterface'), false),
      handle: async (ctx) => {
        const body = ctx.body();
        if (body === null || typeof body !== 'object') throw badRequest('A RouterInterface object is required');
        const s = service(ctx);
        await (op === 'add' ? s.addRouterInterface(ctx.params.id!, body, writer(ctx)) : s.removeRouterInterface(ctx.params.id!, body, writer(ctx)));
        return noContent();
      },
    },
  };
}

export function neutronPluginRoutes(): Route[] {
  return [
    { path: '/neutron', get: { media: media(ROOT_TYPE, false), handle: async (ctx) => ok(rootDocument(ctx)) } },
    ...COLLECTIONS.flatMap(collectionRoutes),
    interfaceRoute('add'),
    interfaceRoute('remove'),
    ...NOT_YET.flatMap(([path, what]) => notImplemented(`neutron/${path}`, what)),
  ];
}
