/**
 * Router interface -> a router port (its id derived from the Neutron port's) with the port's first
 * address and MAC, linked to the Neutron port's bridge port, and a route to the subnet through it.
 * On an uplink network there is no bridge: the router port is bound to the host interface the
 * Neutron port's binding names, and joins the router's stateful port group so that several uplinks
 * share flow state. When the subnet has a DHCP port, a route from the subnet to the metadata
 * address via that port's address, as MidoNet makes (this agent's metadata proxy answers VMs at
 * their own ports, so it is not needed for that). Inputs: the router, the Neutron port, its subnet
 * and network, the network's DHCP port.
 */
import { newPort, newRoute } from '../../../model/defaults.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { T, type Port } from '../../../model/types.ts';
import { syncLocalRoutes } from '../../topology/local-routes.ts';
import { derivedId } from '../ids.ts';
import { DEVICE_OWNER, isUplink, METADATA_ADDRESS, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import type { Translation } from './context.ts';
import { bindingOf } from './port.ts';
import { routerPortGroupId } from './router.ts';

export const interfaceRouterPortId = (port: string) => derivedId(port, 'interface_router_port');
const subnetRouteId = (port: string) => derivedId(port, 'interface_subnet_route');
const metadataRouteId = (port: string) => derivedId(port, 'interface_metadata_route');

export async function addRouterInterface(t: Translation, routerId: string, p: NPort, subnet: NSubnet, net: NNetwork): Promise<void> {
  const ip = p.fixed_ips.find((f) => f.subnet_id === subnet.id)?.ip_address ?? subnet.gateway_ip;
  const [address, length] = subnet.cidr.split('/');
  const id = interfaceRouterPortId(p.id);
  const fields: Partial<Port> = { routerId, portSubnet: ip ? [`${ip}/${length}`] : [], portMac: p.mac_address };
  if (isUplink(net)) {
    Object.assign(fields, await bindingOf(t, p), { portGroupIds: [routerPortGroupId(routerId)] });
  } else {
    fields.peerId = p.id;
  }
  await t.tx.create(T.Port, newPort(id, await t.tunnelKey(), fields));
  await syncLocalRoutes(t.tx, await t.tx.get<Port>(T.Port, id));
  await t.tx.create(T.Route, newRoute(subnetRouteId(p.id), routerId, address!, Number(length), id));
  const dhcp = (await t.tx.find<NPort>(IX.portsByNetwork, indexKey(net.id))).find((x) => x.device_owner === DEVICE_OWNER.dhcp)?.fixed_ips.find((f) => f.subnet_id === subnet.id);
  if (dhcp) {
    await t.tx.create(T.Route, newRoute(metadataRouteId(p.id), routerId, METADATA_ADDRESS, 32, id, {
      srcNetworkAddr: address!, srcNetworkLength: Number(length), nextHopGateway: dhcp.ip_address,
    }));
  }
}

/** Deletes the router port; its routes go with it. */
export async function removeRouterInterface(t: Translation, p: NPort): Promise<void> {
  await t.tx.delete(T.Port, interfaceRouterPortId(p.id), true);
}
