import { conflict, invalidInput } from '../errors.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { DEVICE_OWNER, NT, UPLINK, type NFloatingIp, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import { floatingIps } from './floating-ips.ts';
import { deleteNetwork, translateNetwork } from '../translation/network.ts';
import { given, standard, storeUpdate, type Handler } from './common.ts';
import { removePort } from './ports.ts';
import { subnets } from './subnets.ts';

/** Network types MidoNet provides: its own overlay, and uplinks to the physical network. */
const TYPES = ['midonet', 'local', UPLINK];
/** Room for the VXLAN header on a 1500-byte underlay. */
const DEFAULT_MTU = 1450;

export const networks: Handler<NNetwork> = {
  resource: 'network',
  type: NT.Network,
  async create(op, input) {
    const type = String(given(input, 'provider:network_type', 'midonet')).toLowerCase();
    if (!TYPES.includes(type)) throw invalidInput(`network type ${type} is not supported; use midonet or uplink`);
    const n: NNetwork = {
      ...standard(op, input),
      name: given(input, 'name', ''),
      admin_state_up: given(input, 'admin_state_up', true),
      status: 'ACTIVE',
      shared: given(input, 'shared', false),
      'router:external': given(input, 'router:external', false),
      'provider:network_type': type,
      'provider:physical_network': given(input, 'provider:physical_network', null),
      'provider:segmentation_id': given(input, 'provider:segmentation_id', null),
      mtu: given(input, 'mtu', DEFAULT_MTU),
      port_security_enabled: given(input, 'port_security_enabled', true),
      qos_policy_id: given(input, 'qos_policy_id', null),
      availability_zones: ['nova'],
      availability_zone_hints: given(input, 'availability_zone_hints', []),
      subnets: [],
    };
    await op.t.tx.create(NT.Network, n);
    await translateNetwork(op.t, n, null);
    return n;
  },
  update: (op, old, input) => storeUpdate(op, NT.Network, old, input, ['subnets'], translateNetwork),
  async remove(op, n) {
    const onIt = await op.t.tx.find<NPort>(IX.portsByNetwork, indexKey(n.id));
    // From the plugin's front Neutron has decided already: what is left of the network goes with it.
    // Through our own API, as Neutron: DHCP ports and floating IPs go with the network, anything else keeps it.
    if (!op.trusted && onIt.some((p) => p.device_owner !== DEVICE_OWNER.dhcp && p.device_owner !== DEVICE_OWNER.floatingIp)) {
      throw conflict('NetworkInUse', `Unable to complete operation on network ${n.id}. There are one or more ports still in use on the network.`);
    }
    for (const p of onIt) {
      const fip = p.device_owner === DEVICE_OWNER.floatingIp ? await op.t.tx.tryGet<NFloatingIp>(NT.FloatingIp, p.device_id) : null;
      if (fip) await floatingIps.remove(op, fip);
      else await removePort(op, p);
    }
    for (const id of n.subnets) {
      const s = await op.t.tx.tryGet<NSubnet>(NT.Subnet, id);
      if (s) await subnets.remove(op, s);
    }
    await op.t.tx.delete(NT.Network, n.id);
    await deleteNetwork(op.t, n);
  },
};
