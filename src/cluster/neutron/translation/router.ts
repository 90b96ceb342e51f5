/**
 * Router -> router (same id) with pre-routing (inbound), post-routing (outbound) and forward chains,
 * a floating-IP SNAT chain jumped to first from post-routing, and a stateful port group for its
 * uplinks. The gateway (a port on an external network) becomes a router port linked to that port's
 * bridge port, a default route via the subnet's gateway, a route to the external subnet, and with
 * SNAT enabled the SNAT rule (ports from mn-conf's cluster.translators.nat range) and its reverse. Extra routes become routes via the port whose subnet
 * holds the next hop. Inputs: the router, its gateway port and that port's subnet.
 */
import { newPort, newRoute, newRouter } from '../../../model/defaults.ts';
import { T, type Port, type PortGroup, type Router } from '../../../model/types.ts';
import { syncLocalRoutes } from '../../topology/local-routes.ts';
import { invalidInput } from '../errors.ts';
import { derivedId } from '../ids.ts';
import { onSubnetOf } from '../../../model/net.ts';
import { NT, type NPort, type NRouter, type NSubnet } from '../../../model/neutron.ts';
import { natTo, type Translation } from './context.ts';

export const routerChainIds = (id: string) => ({
  pre: derivedId(id, 'pre_routing_chain'),
  post: derivedId(id, 'post_routing_chain'),
  forward: derivedId(id, 'forward_chain'),
  floatSnat: derivedId(id, 'float_snat_chain'),
});
export const routerPortGroupId = (id: string) => derivedId(id, 'router_port_group');
/** The router port that a router's gateway port (on the external network) is linked to. */
export const gatewayRouterPortId = (gwPort: string) => derivedId(gwPort, 'gateway_router_port');

const gwRuleIds = (router: string) => ({
  snat: derivedId(router, 'gw_snat_rule'),
  revSnat: derivedId(router, 'gw_rev_snat_rule'),
  dropToGw: derivedId(router, 'gw_drop_non_icmp_rule'),
});
const gwRouteIds = (router: string) => ({ default: derivedId(router, 'gw_default_route'), subnet: derivedId(router, 'gw_subnet_route') });
const extraRouteId = (router: string, r: { destination: string; nexthop: string }) => derivedId(router, `extra_route/${r.destination}/${r.nexthop}`);

export async function translateRouter(t: Translation, r: NRouter, old: NRouter | null): Promise<void> {
  const fields = { name: r.name, tenantId: r.tenant_id, adminStateUp: r.admin_state_up };
  if (!old) {
    const c = routerChainIds(r.id);
    await t.ensureChain(c.pre, `OS_PRE_ROUTING_${r.id}`, r.tenant_id);
    await t.ensureChain(c.post, `OS_POST_ROUTING_${r.id}`, r.tenant_id);
    await t.ensureChain(c.forward, `OS_FORWARD_${r.id}`, r.tenant_id);
    await t.ensureChain(c.floatSnat, `OS_FLOAT_SNAT_${r.id}`, r.tenant_id);
    await t.putRule(derivedId(r.id, 'float_snat_jump'), c.post, { type: 'jump', jumpChainId: c.floatSnat });
    await t.tx.create(T.Router, newRouter(r.id, { ...fields, inboundFilterId: c.pre, outboundFilterId: c.post, forwardChainId: c.forward }));
    await t.tx.create(T.PortGroup, { id: routerPortGroupId(r.id), tenantId: r.tenant_id, name: `OS_PORT_GROUP_${r.id}`, stateful: true, portIds: [], ruleIds: [] } satisfies PortGroup);
  } else {
    const router = await t.tx.get<Router>(T.Router, r.id);
    await t.tx.update(T.Router, { ...router, ...fields });
  }
  await syncGateway(t, r, old);
  await syncExtraRoutes(t, r, old);
}

async function removeGateway(t: Translation, r: NRouter): Promise<void> {
  if (r.gw_port_id) await t.tx.delete(T.Port, gatewayRouterPortId(r.gw_port_id), true);
  for (const id of Object.values(gwRuleIds(r.id))) await t.tx.delete(T.Rule, id, true);
  for (const id of Object.values(gwRouteIds(r.id))) await t.tx.delete(T.Route, id, true);
}

async function syncGateway(t: Translation, r: NRouter, old: NRouter | null): Promise<void> {
  if (old) await removeGateway(t, old);
  if (!r.gw_port_id) return;
  const gw = await t.tx.get<NPort>(NT.Port, r.gw_port_id);
  const fixed = gw.fixed_ips[0];
  if (!fixed) throw invalidInput(`gateway port ${gw.id} has no IP address`);
  const subnet = await t.tx.get<NSubnet>(NT.Subnet, fixed.subnet_id);
  const length = Number(subnet.cidr.split('/')[1]);
  const portId = gatewayRouterPortId(gw.id);
  const existing = await t.tx.tryGet<Port>(T.Port, portId);
  const port: Port = {
    ...(existing ?? newPort(portId, await t.tunnelKey(), { routerId: r.id })),
    portSubnet: [`${fixed.ip_address}/${length}`],
    portMac: gw.mac_address,
    peerId: gw.id,
  };
  if (existing) await t.tx.update(T.Port, port);
  else await t.tx.create(T.Port, port);
  await syncLocalRoutes(t.tx, await t.tx.get<Port>(T.Port, portId));
  const routes = gwRouteIds(r.id);
  const [net] = subnet.cidr.split('/');
  await t.tx.create(T.Route, newRoute(routes.subnet, r.id, net!, length, portId));
  if (subnet.gateway_ip && subnet.gateway_ip !== fixed.ip_address) {
    await t.tx.create(T.Route, newRoute(routes.default, r.id, '0.0.0.0', 0, portId, { nextHopGateway: subnet.gateway_ip }));
  }
  if (r.external_gateway_info?.enable_snat === false) return;
  const c = routerChainIds(r.id);
  const rules = gwRuleIds(r.id);
  const toGw = { nwDstAddress: fixed.ip_address, nwDstLength: 32, inPorts: [portId] };
  const [from, to] = [await t.setting<number>('cluster.translators.nat.dynamic_port_start'), await t.setting<number>('cluster.translators.nat.dynamic_port_end')];
  await t.putRule(rules.snat, c.post, { type: 'snat', flowAction: 'accept', outPorts: [portId], natTargets: natTo(fixed.ip_address, from, to) });
  await t.putRule(rules.revSnat, c.pre, { type: 'rev_snat', flowAction: 'accept', ...toGw });
  // What reaches the gateway address without being a reply to SNAT: only ping is answered.
  await t.putRule(rules.dropToGw, c.pre, { type: 'drop', ...toGw, nwProto: 1, invNwProto: true });
}

async function syncExtraRoutes(t: Translation, r: NRouter, old: NRouter | null): Promise<void> {
  for (const route of old?.routes ?? []) await t.tx.delete(T.Route, extraRouteId(r.id, route), true);
  if (r.routes.length === 0) return;
  const router = await t.tx.get<Router>(T.Router, r.id);
  const ports = (await Promise.all(router.portIds.map((id) => t.tx.tryGet<Port>(T.Port, id)))).filter((p): p is Port => p !== null);
  for (const route of r.routes) {
    const via = ports.find((p) => p.portSubnet.some((s) => onSubnetOf(s, route.nexthop)));
    if (!via) throw invalidInput(`the nexthop ${route.nexthop} of route ${route.destination} is not connected with router ${r.id}`);
    const [dst, len] = route.destination.split('/');
    await t.tx.create(T.Route, newRoute(extraRouteId(r.id, route), r.id, dst!, Number(len), via.id, { nextHopGateway: route.nexthop }));
  }
}

export async function deleteRouter(t: Translation, r: NRouter): Promise<void> {
  await removeGateway(t, r);
  await t.tx.delete(T.Router, r.id, true);
  for (const id of Object.values(routerChainIds(r.id))) await t.tx.delete(T.Chain, id, true);
  await t.tx.delete(T.PortGroup, routerPortGroupId(r.id), true);
}
