import { ipToInt } from '../../../model/net.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { badRequest, conflict, invalidInput } from '../errors.ts';
import { contains, defaultGateway, defaultPools, overlaps, rangeOf, type Range } from '../ipam.ts';
import { DEVICE_OWNER, NT, type AllocationPool, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import { deleteSubnet, syncSubnet } from '../translation/subnet.ts';
import { given, load, merged, standard, type Handler, type Op } from './common.ts';
import { ports } from './ports.ts';
import { allocateFromPool, requestedPool } from './subnet-pools.ts';

function checkGateway(s: NSubnet, r: Range): void {
  if (s.gateway_ip === null) return;
  if (!contains(r, s.gateway_ip) || (r.length < 31 && (ipToInt(s.gateway_ip) === r.first || ipToInt(s.gateway_ip) === r.last))) {
    throw invalidInput(`Gateway IP ${s.gateway_ip} is not a valid host address of subnet ${s.cidr}`);
  }
}

function checkPools(s: NSubnet, r: Range): void {
  const ranges: [number, number][] = [];
  for (const p of s.allocation_pools) {
    const [a, b] = [ipToInt(p.start), ipToInt(p.end)];
    if (!contains(r, p.start) || !contains(r, p.end) || a > b) {
      throw badRequest(`The allocation pool ${p.start}-${p.end} spans beyond the subnet cidr ${s.cidr}.`);
    }
    if (ranges.some(([x, y]) => a <= y && x <= b)) throw badRequest(`Found overlapping allocation pools: ${p.start}-${p.end}`);
    ranges.push([a, b]);
    if (s.gateway_ip && a <= ipToInt(s.gateway_ip) && ipToInt(s.gateway_ip) <= b) {
      throw conflict('GatewayConflictWithAllocationPools', `Gateway ip ${s.gateway_ip} conflicts with allocation pool ${p.start}-${p.end}`);
    }
  }
}

/** Ports holding an address of the subnet, other than its DHCP port. */
async function users(op: Op, s: NSubnet): Promise<readonly NPort[]> {
  return (await op.t.tx.find<NPort>(IX.portsBySubnet, indexKey(s.id))).filter((p) => p.device_owner !== DEVICE_OWNER.dhcp);
}

export const subnets: Handler<NSubnet> = {
  resource: 'subnet',
  type: NT.Subnet,
  async create(op, input) {
    const net = await load<NNetwork>(op, NT.Network, 'network', input.network_id as string);
    if (given(input, 'ip_version', 4) !== 4) throw invalidInput('IPv6 subnets are not supported by this MidoNet server');
    // From the plugin's front the pools are Neutron's own and the CIDR is already cut.
    const pool = op.trusted ? null : await requestedPool(op, input);
    if (!pool && input.cidr === undefined) throw badRequest('Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
    const cidr = pool ? await allocateFromPool(op, pool, input.cidr as string | undefined, input.prefixlen as number | undefined) : (input.cidr as string);
    const range = rangeOf(cidr);
    if (!range) throw badRequest(`Invalid input for cidr. Reason: '${cidr}' is not a network address; use its network address instead.`);
    for (const id of net.subnets) {
      const other = await op.t.tx.tryGet<NSubnet>(NT.Subnet, id);
      const r = other && rangeOf(other.cidr);
      if (r && overlaps(r, range)) {
        throw invalidInput(`Requested subnet with cidr: ${cidr} for network: ${net.id} overlaps with another subnet`);
      }
    }
    const gateway: string | null = given(input, 'gateway_ip', defaultGateway(range));
    const s: NSubnet = {
      ...standard(op, input),
      name: given(input, 'name', ''),
      network_id: net.id,
      ip_version: 4,
      cidr,
      gateway_ip: gateway,
      allocation_pools: given<AllocationPool[]>(input, 'allocation_pools', defaultPools(range, gateway)),
      dns_nameservers: given(input, 'dns_nameservers', []),
      host_routes: given(input, 'host_routes', []),
      enable_dhcp: given(input, 'enable_dhcp', true),
      shared: net.shared,
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      subnetpool_id: pool?.id ?? null,
      segment_id: null,
      service_types: given(input, 'service_types', []),
    };
    checkGateway(s, range);
    checkPools(s, range);
    await op.t.tx.create(NT.Subnet, s);
    await op.t.tx.update(NT.Network, { ...net, subnets: [...net.subnets, s.id] });
    await syncSubnet(op.t, s);
    return s;
  },
  async update(op, old, input) {
    const s = merged(op, old, input);
    const range = rangeOf(s.cidr)!;
    checkGateway(s, range);
    checkPools(s, range);
    await op.t.tx.update(NT.Subnet, s);
    await syncSubnet(op.t, s);
    return s;
  },
  async remove(op, s) {
    const using = await users(op, s);
    if (using.length > 0 && !op.trusted) {
      throw conflict('SubnetInUse', `Unable to complete operation on subnet ${s.id}: One or more ports have an IP allocation from this subnet.`);
    }
    // From the plugin's front Neutron has decided already: ports left keep their other addresses.
    for (const p of using) {
      const fixed_ips = p.fixed_ips.filter((f) => f.subnet_id !== s.id).map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address }));
      await ports.update(op, p, { fixed_ips });
    }
    await op.t.tx.delete(NT.Subnet, s.id);
    const net = await load<NNetwork>(op, NT.Network, 'network', s.network_id);
    await op.t.tx.update(NT.Network, { ...net, subnets: net.subnets.filter((x) => x !== s.id) });
    await deleteSubnet(op.t, s);
  },
};
