import { badRequest, conflict, notFound } from '../errors.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { contains, overlaps, rangeOf } from '../ipam.ts';
import { DEVICE_OWNER, NT, type ExternalGatewayInfo, type NFloatingIp, type NNetwork, type NPort, type NRouter, type NSubnet } from '../../../model/neutron.ts';
import { addRouterInterface, removeRouterInterface } from '../translation/router-interface.ts';
import { translatePort } from '../translation/port.ts';
import { deleteRouter, translateRouter } from '../translation/router.ts';
import { given, load, merged, standard, type Handler, type Op } from './common.ts';
import { createPort, removePort } from './ports.ts';

type GatewayInput = { network_id: string; enable_snat?: boolean; external_fixed_ips?: { subnet_id?: string; ip_address?: string }[] } | null;

const interfacesOf = async (op: Op, routerId: string) =>
  (await op.t.tx.find<NPort>(IX.portsByDevice, indexKey(routerId))).filter((p) => p.device_owner === DEVICE_OWNER.routerInterface);

/**
 * The gateway as Neutron's API asks for it: a port on the external network owned by the router,
 * made here (the plugin's front gets gw_port_id from Neutron instead).
 */
async function makeGateway(op: Op, r: NRouter, info: GatewayInput): Promise<void> {
  if (!info) {
    r.external_gateway_info = null;
    r.gw_port_id = null;
    return;
  }
  const net = await load<NNetwork>(op, NT.Network, 'network', info.network_id);
  if (!net['router:external']) throw badRequest(`Bad router request: Network ${net.id} is not an external network.`);
  const port = await createPort(op, {
    network_id: net.id,
    device_owner: DEVICE_OWNER.routerGateway,
    device_id: r.id,
    tenant_id: '',
    ...(info.external_fixed_ips ? { fixed_ips: info.external_fixed_ips } : {}),
  });
  if (port.fixed_ips.length === 0) throw badRequest(`Bad router request: No IP address available on external network ${net.id}.`);
  r.gw_port_id = port.id;
  r.external_gateway_info = { network_id: net.id, enable_snat: info.enable_snat ?? true, external_fixed_ips: port.fixed_ips };
}

async function dropGateway(op: Op, r: NRouter): Promise<void> {
  const fips = await op.t.tx.lookup(IX.floatingIpsByRouter, indexKey(r.id));
  if (fips.length > 0) {
    throw conflict('RouterExternalGatewayInUseByFloatingIp', `Gateway cannot be updated for router ${r.id}, since a gateway to external network ${r.external_gateway_info?.network_id} is required by one or more floating IPs.`);
  }
  const gw = r.gw_port_id ? await op.t.tx.tryGet<NPort>(NT.Port, r.gw_port_id) : null;
  if (gw) await removePort(op, gw);
}

const sameGateway = (a: ExternalGatewayInfo | null, b: GatewayInput) => a?.network_id === b?.network_id && (!b?.external_fixed_ips || JSON.stringify(b.external_fixed_ips) === JSON.stringify(a?.external_fixed_ips));

export const routers: Handler<NRouter> = {
  resource: 'router',
  type: NT.Router,
  async create(op, input) {
    const r: NRouter = {
      ...standard(op, input),
      name: given(input, 'name', ''),
      admin_state_up: given(input, 'admin_state_up', true),
      status: 'ACTIVE',
      external_gateway_info: null,
      gw_port_id: null,
      routes: given(input, 'routes', []),
      distributed: given(input, 'distributed', false),
      ha: given(input, 'ha', false),
      availability_zones: ['nova'],
      availability_zone_hints: given(input, 'availability_zone_hints', []),
    };
    if (op.trusted) {
      r.gw_port_id = given(input, 'gw_port_id', null);
      r.external_gateway_info = given(input, 'external_gateway_info', null);
    }
    await op.t.tx.create(NT.Router, r);
    if (!op.trusted) await makeGateway(op, r, given(input, 'external_gateway_info', null));
    await op.t.tx.update(NT.Router, r);
    await translateRouter(op.t, r, null);
    return r;
  },
  async update(op, old, input) {
    const r = merged(op, old, input);
    if (!op.trusted && 'external_gateway_info' in input) {
      const info = input.external_gateway_info as GatewayInput;
      if (sameGateway(old.external_gateway_info, info)) {
        r.external_gateway_info = old.external_gateway_info && info ? { ...old.external_gateway_info, enable_snat: info.enable_snat ?? old.external_gateway_info.enable_snat } : null;
        r.gw_port_id = old.gw_port_id;
      } else {
        await dropGateway(op, old);
        await makeGateway(op, r, info);
      }
    }
    await op.t.tx.update(NT.Router, r);
    await translateRouter(op.t, r, old);
    return r;
  },
  async remove(op, r) {
    if ((await interfacesOf(op, r.id)).length > 0) throw conflict('RouterInUse', `Router ${r.id} still has ports`);
    await op.t.tx.delete(NT.Router, r.id);
    if (!op.trusted) await dropGateway(op, r);
    await deleteRouter(op.t, r);
  },
};

/** What add/remove_router_interface answer. */
export interface RouterInterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  subnet_id: string;
  subnet_ids: string[];
  network_id: string;
}

const info = (r: NRouter, p: NPort): RouterInterfaceInfo => ({
  id: r.id,
  tenant_id: r.tenant_id,
  project_id: r.project_id,
  port_id: p.id,
  subnet_id: p.fixed_ips[0]?.subnet_id ?? '',
  subnet_ids: p.fixed_ips.map((f) => f.subnet_id),
  network_id: p.network_id,
});

function oneOf(body: Record<string, unknown>): { port_id?: string; subnet_id?: string } {
  const port = typeof body.port_id === 'string' ? body.port_id : undefined;
  const subnet = typeof body.subnet_id === 'string' ? body.subnet_id : undefined;
  if (!port && !subnet) throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
  if (port && subnet && body.id === undefined) throw badRequest('Bad router request: Cannot specify both subnet-id and port-id.');
  return { port_id: port, subnet_id: subnet };
}

export async function addInterface(op: Op, routerId: string, body: Record<string, unknown>): Promise<RouterInterfaceInfo> {
  const r = await load<NRouter>(op, NT.Router, 'router', routerId);
  const want = oneOf(body);
  let port: NPort;
  if (want.port_id) {
    port = await load<NPort>(op, NT.Port, 'port', want.port_id);
    if (!op.trusted) {
      if (port.device_id && port.device_id !== r.id) throw conflict('PortInUse', `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`);
      if (port.fixed_ips.length === 0) throw badRequest('Bad router request: Router port must have at least one fixed IP.');
    }
  } else {
    const subnet = await load<NSubnet>(op, NT.Subnet, 'subnet', want.subnet_id!);
    if (!subnet.gateway_ip) throw badRequest(`Bad router request: Subnet for router interface must have a gateway IP.`);
    port = await createPort(op, {
      network_id: subnet.network_id, fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }], tenant_id: r.tenant_id,
      device_owner: DEVICE_OWNER.routerInterface, device_id: r.id,
    });
  }
  const subnet = await load<NSubnet>(op, NT.Subnet, 'subnet', port.fixed_ips[0]?.subnet_id ?? want.subnet_id ?? '');
  if (!op.trusted) {
    const range = rangeOf(subnet.cidr)!;
    for (const other of await interfacesOf(op, r.id)) {
      if (other.id === port.id) continue;
      if (other.fixed_ips.some((f) => f.subnet_id === subnet.id)) throw badRequest(`Bad router request: Router already has a port on subnet ${subnet.id}.`);
      // One router cannot route to two subnets whose addresses overlap.
      for (const f of other.fixed_ips) {
        const s = await op.t.tx.tryGet<NSubnet>(NT.Subnet, f.subnet_id);
        const r2 = s && rangeOf(s.cidr);
        if (s && r2 && overlaps(range, r2)) throw badRequest(`Bad router request: Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${s.cidr} of subnet ${s.id}.`);
      }
    }
  }
  const net = await load<NNetwork>(op, NT.Network, 'network', port.network_id);
  if (!op.trusted && (port.device_owner !== DEVICE_OWNER.routerInterface || port.device_id !== r.id)) {
    // Now Neutron's own port: no security groups, no anti-spoofing.
    const old = port;
    port = { ...port, device_owner: DEVICE_OWNER.routerInterface, device_id: r.id, security_groups: [], updated_at: op.now, revision_number: port.revision_number + 1 };
    await op.t.tx.update(NT.Port, port);
    await translatePort(op.t, port, old, net);
  }
  await addRouterInterface(op.t, r.id, port, subnet, net);
  return info(r, port);
}

export async function removeInterface(op: Op, routerId: string, body: Record<string, unknown>): Promise<RouterInterfaceInfo> {
  const r = await load<NRouter>(op, NT.Router, 'router', routerId);
  const want = oneOf(body);
  const mine = await interfacesOf(op, r.id);
  const port = want.port_id ? mine.find((p) => p.id === want.port_id) : mine.find((p) => p.fixed_ips.some((f) => f.subnet_id === want.subnet_id));
  if (!port) {
    // The plugin's front tells us after Neutron has already changed the port.
    if (op.trusted && want.port_id) {
      const p = await op.t.tx.tryGet<NPort>(NT.Port, want.port_id);
      if (p) {
        await removeRouterInterface(op.t, p);
        return info(r, p);
      }
    }
    // Neutron deleted the port before telling us: nothing is left to remove (MidoNet's no-op).
    if (op.trusted) return { id: r.id, tenant_id: r.tenant_id, project_id: r.project_id, port_id: want.port_id ?? '', subnet_id: want.subnet_id ?? '', subnet_ids: want.subnet_id ? [want.subnet_id] : [], network_id: '' };
    throw want.port_id
      ? notFound('RouterInterfaceNotFound', `Router ${r.id} does not have an interface with id ${want.port_id}`)
      : notFound('RouterInterfaceNotFoundForSubnet', `Router ${r.id} has no interface on subnet ${want.subnet_id}`);
  }
  const fips = (await op.t.tx.find<NFloatingIp>(IX.floatingIpsByRouter, indexKey(r.id))).filter((f) => f.fixed_ip_address);
  for (const s of port.fixed_ips) {
    const subnet = await op.t.tx.tryGet<NSubnet>(NT.Subnet, s.subnet_id);
    const range = subnet && rangeOf(subnet.cidr);
    if (range && fips.some((f) => contains(range, f.fixed_ip_address!))) {
      throw conflict('RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${s.subnet_id} on router ${r.id} cannot be deleted, as it is required by one or more floating IPs.`);
    }
  }
  if (op.trusted) await removeRouterInterface(op.t, port);
  else await removePort(op, port);
  return info(r, port);
}
