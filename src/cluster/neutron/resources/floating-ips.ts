import { badRequest, conflict, notFound } from '../errors.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { DEVICE_OWNER, NT, type NFloatingIp, type NNetwork, type NPort, type NRouter } from '../../../model/neutron.ts';
import { deleteFloatingIp, translateFloatingIp } from '../translation/floating-ip.ts';
import { given, load, merged, standard, type Handler, type Op } from './common.ts';
import { createPort, removePort } from './ports.ts';

/**
 * Where a floating IP for this port goes: the fixed address (the one asked for, else the port's
 * first) and the router that has a gateway on the floating network and an interface on that
 * address's subnet.
 */
async function association(op: Op, fip: NFloatingIp, portId: string, fixed: string | null): Promise<Pick<NFloatingIp, 'port_id' | 'fixed_ip_address' | 'router_id'>> {
  const port = await load<NPort>(op, NT.Port, 'port', portId);
  const ip = fixed ? port.fixed_ips.find((f) => f.ip_address === fixed) : port.fixed_ips[0];
  if (!ip) throw badRequest(fixed ? `Bad floatingip request: Port ${port.id} does not have fixed ip ${fixed}.` : `Bad floatingip request: Port ${port.id} does not have any IPv4 address.`);
  const all = await op.t.tx.find<NFloatingIp>(IX.floatingIpsByPort, indexKey(port.id));
  const taken = all.find((f) => f.id !== fip.id && f.fixed_ip_address === ip.ip_address);
  if (taken) throw conflict('FloatingIPPortAlreadyAssociated', `Cannot associate floating IP ${fip.floating_ip_address} (${fip.id}) with port ${port.id} using fixed IP ${ip.ip_address}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`);
  // The routers with an interface on the address's subnet, and of those one with a gateway on the floating network.
  const interfaces = (await op.t.tx.find<NPort>(IX.portsBySubnet, indexKey(ip.subnet_id))).filter((p) => p.device_owner === DEVICE_OWNER.routerInterface);
  const candidates = await Promise.all([...new Set(interfaces.map((p) => p.device_id))].map((id) => op.t.tx.tryGet<NRouter>(NT.Router, id)));
  const router = candidates.find((r) => r?.external_gateway_info?.network_id === fip.floating_network_id);
  if (!router) {
    throw notFound('ExternalGatewayForFloatingIPNotFound', `External network ${fip.floating_network_id} is not reachable from subnet ${ip.subnet_id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`);
  }
  return { port_id: port.id, fixed_ip_address: ip.ip_address, router_id: router.id };
}

export const floatingIps: Handler<NFloatingIp> = {
  resource: 'floatingip',
  type: NT.FloatingIp,
  async create(op, input) {
    const net = await load<NNetwork>(op, NT.Network, 'network', input.floating_network_id as string);
    if (!net['router:external']) throw badRequest(`Bad floatingip request: Network ${net.id} is not a valid external network.`);
    const fip: NFloatingIp = {
      ...standard(op, input),
      floating_ip_address: given(input, 'floating_ip_address', ''),
      floating_network_id: net.id,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
      floating_port_id: '',
      port_forwardings: [],
    };
    if (op.trusted) {
      Object.assign(fip, { router_id: given(input, 'router_id', null), port_id: given(input, 'port_id', null), fixed_ip_address: given(input, 'fixed_ip_address', null) });
    } else {
      const address = input.floating_ip_address as string | undefined;
      const subnet = input.subnet_id as string | undefined;
      const fixed = address || subnet ? [{ ...(subnet ? { subnet_id: subnet } : {}), ...(address ? { ip_address: address } : {}) }] : undefined;
      const port = await createPort(op, { network_id: net.id, device_owner: DEVICE_OWNER.floatingIp, device_id: fip.id, tenant_id: '', ...(fixed ? { fixed_ips: fixed } : {}) });
      const ip = port.fixed_ips[0];
      if (!ip) throw conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
      fip.floating_ip_address = ip.ip_address;
      fip.floating_port_id = port.id;
      if (typeof input.port_id === 'string') Object.assign(fip, await association(op, fip, input.port_id, (input.fixed_ip_address as string | null) ?? null));
    }
    if (fip.port_id) fip.status = 'ACTIVE';
    await op.t.tx.create(NT.FloatingIp, fip);
    await translateFloatingIp(op.t, fip, null);
    return fip;
  },
  async update(op, old, input) {
    const fip = merged(op, old, input);
    if (!op.trusted && 'port_id' in input) {
      const portId = input.port_id as string | null;
      Object.assign(fip, portId ? await association(op, old, portId, (input.fixed_ip_address as string | null) ?? null) : { port_id: null, fixed_ip_address: null, router_id: null });
    }
    fip.status = fip.port_id ? 'ACTIVE' : 'DOWN';
    await op.t.tx.update(NT.FloatingIp, fip);
    await translateFloatingIp(op.t, fip, old);
    return fip;
  },
  async remove(op, fip) {
    await op.t.tx.delete(NT.FloatingIp, fip.id);
    await deleteFloatingIp(op.t, fip);
    const port = fip.floating_port_id ? await op.t.tx.tryGet<NPort>(NT.Port, fip.floating_port_id) : null;
    if (port) await removePort(op, port);
  },
};
