import { badRequest, conflict, NOT_FOUND } from '../errors.ts';
import { allocate, contains, neutronMac, poolSize, randomAddress, rangeOf } from '../ipam.ts';
import { DEVICE_OWNER, isNetworkOwned, NT, type FixedIp, type NFloatingIp, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import { deleteFloatingIp } from '../translation/floating-ip.ts';
import { deletePort, translatePort } from '../translation/port.ts';
import { removeRouterInterface } from '../translation/router-interface.ts';
import { given, load, merged, standard, type Handler, type Op } from './common.ts';
import { fixedIpKey, IX, macKey } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { defaultGroup } from './security-groups.ts';

type Requested = { subnet_id?: string; ip_address?: string };

async function subnetsOf(op: Op, net: NNetwork): Promise<NSubnet[]> {
  const all = await Promise.all(net.subnets.map((id) => op.t.tx.tryGet<NSubnet>(NT.Subnet, id)));
  return all.filter((s): s is NSubnet => s !== null);
}

/** Above this many addresses a subnet gets random free addresses, each checked with one index read. */
const RANDOM_ABOVE = 256;

/**
 * The port's fixed IPs as Neutron's IPAM gives them: each requested address checked against its
 * subnet and the addresses in use, each requested subnet given a free address, and with nothing
 * requested one address from the first subnet that has one free. `own` are the port's addresses
 * before this write: not in use by another port. A small subnet gives its first free address; a
 * large one (an external network) a random free one, so a write never reads every address taken.
 * The store's fixed-IP index makes an address another writer takes meanwhile a race this write
 * retries.
 */
async function fixedIps(op: Op, net: NNetwork, own: FixedIp[], requested: Requested[] | undefined): Promise<FixedIp[]> {
  const subnets = await subnetsOf(op, net);
  const out: FixedIp[] = [];
  const mine = (subnet: string, ip: string) => own.some((f) => f.subnet_id === subnet && f.ip_address === ip);
  const claimed = (subnet: string, ip: string) => out.some((f) => f.subnet_id === subnet && f.ip_address === ip);
  const inUse = async (subnet: string, ip: string) =>
    claimed(subnet, ip) || (!mine(subnet, ip) && (await op.t.tx.lookup(IX.fixedIp, fixedIpKey(subnet, ip))).length > 0);
  const free = async (s: NSubnet): Promise<string | null> => {
    if (poolSize(s) > RANDOM_ABOVE) {
      for (let i = 0; i < 8; i++) {
        const ip = randomAddress(s);
        if (ip && !(await inUse(s.id, ip))) return ip;
      }
    }
    // Small or nearly full: the first free address, from the addresses the index holds.
    const used = await op.t.tx.members(IX.fixedIp, indexKey(s.id));
    for (const f of own) if (f.subnet_id === s.id) used.delete(f.ip_address);
    for (const f of out) if (f.subnet_id === s.id) used.add(f.ip_address);
    return allocate(s, used);
  };
  if (requested === undefined) {
    for (const s of subnets) {
      const ip = await free(s);
      if (ip) {
        out.push({ subnet_id: s.id, ip_address: ip });
        return out;
      }
    }
    if (subnets.length > 0) throw conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
    return out;
  }
  for (const r of requested) {
    let subnet: NSubnet | undefined;
    if (r.subnet_id) {
      subnet = subnets.find((s) => s.id === r.subnet_id);
      if (!subnet) {
        if (!(await op.t.tx.exists(NT.Subnet, r.subnet_id))) throw NOT_FOUND.subnet!(r.subnet_id);
        throw badRequest(`Invalid input for operation: Failed to create port on network ${net.id}, because fixed_ips included invalid subnet ${r.subnet_id}.`);
      }
      if (r.ip_address && !contains(rangeOf(subnet.cidr)!, r.ip_address)) {
        throw badRequest(`IP address ${r.ip_address} is not a valid IP for the specified subnet.`);
      }
    } else if (r.ip_address) {
      subnet = subnets.find((s) => contains(rangeOf(s.cidr)!, r.ip_address!));
      if (!subnet) throw badRequest(`IP address ${r.ip_address} is not a valid IP for any of the subnets on the specified network.`);
    } else {
      throw badRequest('Invalid input for fixed_ips. Reason: each entry needs a subnet_id or an ip_address.');
    }
    if (r.ip_address) {
      if (await inUse(subnet.id, r.ip_address)) {
        throw conflict('IpAddressAlreadyAllocated', `IP address ${r.ip_address} already allocated in subnet ${subnet.id}`);
      }
      out.push({ subnet_id: subnet.id, ip_address: r.ip_address });
    } else {
      const ip = await free(subnet);
      if (!ip) throw conflict('IpAddressGenerationFailure', `No more IP addresses available on network ${net.id}.`);
      out.push({ subnet_id: subnet.id, ip_address: ip });
    }
  }
  return out;
}

/** The port's MAC: the one asked for if no other port of the network has it, else a new one. */
async function macFor(op: Op, net: NNetwork, self: string, asked: string | undefined): Promise<string> {
  const inUse = async (mac: string) => (await op.t.tx.lookup(IX.portMac, macKey(net.id, mac))).some((id) => id !== self);
  if (asked !== undefined) {
    if (await inUse(asked)) throw conflict('MacAddressInUse', `Unable to complete operation for network ${net.id}. The mac address ${asked} is in use.`);
    return asked;
  }
  for (;;) {
    const mac = neutronMac();
    if (!(await inUse(mac))) return mac;
  }
}

async function checkGroups(op: Op, p: NPort): Promise<void> {
  for (const id of p.security_groups) if (!(await op.t.tx.exists(NT.SecurityGroup, id))) throw NOT_FOUND.security_group!(id);
  if (!p.port_security_enabled && p.security_groups.length > 0) {
    throw conflict('PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
  }
  if (!p.port_security_enabled && p.allowed_address_pairs.length > 0) {
    throw conflict('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  }
}

const vifType = (p: Pick<NPort, 'binding:host_id'>) => (p['binding:host_id'] ? 'midonet' : 'unbound');
const pairs = (input: Record<string, unknown>, mac: string) =>
  (input.allowed_address_pairs as { ip_address: string; mac_address?: string }[]).map((a) => ({ ip_address: a.ip_address, mac_address: a.mac_address ?? mac }));

/** Creates a Neutron port (also for routers' and floating IPs' own ports) and translates it. */
export async function createPort(op: Op, input: Record<string, unknown>): Promise<NPort> {
  const net = await load<NNetwork>(op, NT.Network, 'network', input.network_id as string);
  const base = standard(op, input);
  const owner: string = given(input, 'device_owner', '');
  const mac = await macFor(op, net, base.id, input.mac_address as string | undefined);
  const security: boolean = given(input, 'port_security_enabled', net.port_security_enabled);
  const p: NPort = {
    ...base,
    name: given(input, 'name', ''),
    network_id: net.id,
    admin_state_up: given(input, 'admin_state_up', true),
    mac_address: mac,
    fixed_ips: await fixedIps(op, net, [], input.fixed_ips as Requested[] | undefined),
    device_id: given(input, 'device_id', ''),
    device_owner: owner,
    status: 'DOWN',
    security_groups: given<string[]>(input, 'security_groups', []),
    port_security_enabled: security,
    allowed_address_pairs: 'allowed_address_pairs' in input ? pairs(input, mac) : [],
    extra_dhcp_opts: given(input, 'extra_dhcp_opts', []),
    'binding:host_id': given(input, 'binding:host_id', ''),
    'binding:profile': given(input, 'binding:profile', {}),
    'binding:vif_type': 'unbound',
    'binding:vnic_type': given(input, 'binding:vnic_type', 'normal'),
    'binding:vif_details': { port_filter: true },
    qos_policy_id: given(input, 'qos_policy_id', null),
    dns_name: given(input, 'dns_name', ''),
  };
  p['binding:vif_type'] = vifType(p);
  if (!('security_groups' in input) && !isNetworkOwned(p) && security && !op.trusted) {
    p.security_groups = [(await defaultGroup(op, p.tenant_id)).id];
  }
  await checkGroups(op, p);
  await op.t.tx.create(NT.Port, p);
  await translatePort(op.t, p, null, net);
  return p;
}

/** Deletes a Neutron port with what was made for it, its router interface and floating IPs included. */
export async function removePort(op: Op, p: NPort): Promise<void> {
  await op.t.tx.delete(NT.Port, p.id);
  if (p.device_owner === DEVICE_OWNER.routerInterface) await removeRouterInterface(op.t, p);
  for (const fip of await op.t.tx.find<NFloatingIp>(IX.floatingIpsByPort, indexKey(p.id))) {
    const free: NFloatingIp = { ...fip, port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: op.now };
    await op.t.tx.update(NT.FloatingIp, free);
    await deleteFloatingIp(op.t, fip);
  }
  await deletePort(op.t, p);
}

/** Owners whose ports only their owner's API may delete (router interface removal, gateway clear, floating IP delete). */
const OWNED = [DEVICE_OWNER.routerInterface, DEVICE_OWNER.routerGateway, DEVICE_OWNER.floatingIp];

export const ports: Handler<NPort> = {
  resource: 'port',
  type: NT.Port,
  create: createPort,
  async update(op, old, input) {
    const net = await load<NNetwork>(op, NT.Network, 'network', old.network_id);
    const p = merged(op, old, input);
    if ('fixed_ips' in input) p.fixed_ips = await fixedIps(op, net, old.fixed_ips, input.fixed_ips as Requested[]);
    if ('mac_address' in input) await macFor(op, net, p.id, p.mac_address);
    if ('allowed_address_pairs' in input) p.allowed_address_pairs = pairs(input, p.mac_address);
    p['binding:vif_type'] = vifType(p);
    await checkGroups(op, p);
    await op.t.tx.update(NT.Port, p);
    await translatePort(op.t, p, old, net);
    return p;
  },
  async remove(op, p) {
    if (!op.trusted && (OWNED as readonly string[]).includes(p.device_owner)) {
      throw conflict('PortInUse', `Port ${p.id} cannot be deleted directly via the port API: has device owner ${p.device_owner}.`);
    }
    await removePort(op, p);
  },
};
