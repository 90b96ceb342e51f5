/**
 * Subnet -> the bridge's DHCP subnet (same id). Inputs: the subnet, its network, and the network's
 * ports: VM ports give the DHCP host entries, a DHCP port the server address.
 */
import { parseCidr } from '../../../model/net.ts';
import { T, type Dhcp, type DhcpHost } from '../../../model/types.ts';
import { DEVICE_OWNER, isNetworkOwned, METADATA_ADDRESS, NT, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import type { Translation } from './context.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';

function hostsOf(subnet: string, p: Pick<NPort, 'device_owner' | 'fixed_ips' | 'mac_address' | 'name' | 'extra_dhcp_opts'>): DhcpHost[] {
  if (isNetworkOwned(p)) return [];
  return p.fixed_ips.filter((ip) => ip.subnet_id === subnet).map((ip) => ({
    macAddr: p.mac_address,
    ipAddr: ip.ip_address,
    name: p.name,
    extraDhcpOpts: p.extra_dhcp_opts.map((o) => ({ optName: o.opt_name, optValue: o.opt_value })),
  }));
}

/** The DHCP subnet's settings from the Neutron subnet and the address of its DHCP port, if any. */
function settings(s: NSubnet, net: NNetwork, dhcpPortIp: string | undefined): Omit<Dhcp, 'hosts'> {
  const cidr = parseCidr(s.cidr)!;
  const opt121 = s.host_routes.map((r) => {
    const d = parseCidr(r.destination)!;
    return { destinationPrefix: d.address, destinationLength: d.length, gatewayAddr: r.nexthop };
  });
  if (dhcpPortIp) opt121.push({ destinationPrefix: METADATA_ADDRESS, destinationLength: 32, gatewayAddr: dhcpPortIp });
  return {
    id: s.id,
    networkId: s.network_id,
    subnetAddress: cidr.address,
    subnetLength: cidr.length,
    defaultGateway: s.gateway_ip,
    serverAddr: dhcpPortIp ?? s.gateway_ip,
    dnsServerAddrs: s.dns_nameservers.length > 0 ? s.dns_nameservers : null,
    interfaceMtu: net.mtu,
    opt121Routes: opt121,
    enabled: s.enable_dhcp,
  };
}

const dhcpAddress = (ports: readonly Pick<NPort, 'device_owner' | 'fixed_ips'>[], subnet: string) =>
  ports.filter((p) => p.device_owner === DEVICE_OWNER.dhcp).flatMap((p) => p.fixed_ips).find((ip) => ip.subnet_id === subnet)?.ip_address;

async function bridged(t: Translation, s: NSubnet): Promise<NNetwork | null> {
  const net = await t.tx.tryGet<NNetwork>(NT.Network, s.network_id);
  if (!net || !parseCidr(s.cidr) || s.ip_version !== 4 || !(await t.tx.exists(T.Network, net.id))) return null;
  return net;
}

/** Makes the DHCP subnet match the Neutron subnet and every port now on it (subnet writes). */
export async function syncSubnet(t: Translation, s: NSubnet): Promise<void> {
  const net = await bridged(t, s);
  if (!net) return;
  const ports = await t.tx.find<NPort>(IX.portsByNetwork, indexKey(s.network_id));
  const dhcp: Dhcp = { ...settings(s, net, dhcpAddress(ports, s.id)), hosts: ports.flatMap((p) => hostsOf(s.id, p)) };
  if (await t.tx.exists(T.Dhcp, s.id)) await t.tx.update(T.Dhcp, dhcp);
  else await t.tx.create(T.Dhcp, dhcp);
}

/**
 * Brings the DHCP subnet in step with one port's change (port writes): its host entries, and the
 * server address when it is the DHCP port. Costs the port, not the network.
 */
export async function syncSubnetPort(t: Translation, subnetId: string, old: NPort | null, p: NPort | null): Promise<void> {
  const isDhcp = (x: NPort | null) => x?.device_owner === DEVICE_OWNER.dhcp;
  const before = old ? hostsOf(subnetId, old) : [];
  const after = p ? hostsOf(subnetId, p) : [];
  if (!isDhcp(old) && !isDhcp(p) && JSON.stringify(before) === JSON.stringify(after)) return;
  const s = await t.tx.tryGet<NSubnet>(NT.Subnet, subnetId);
  const current = s && (await bridged(t, s)) ? await t.tx.tryGet<Dhcp>(T.Dhcp, subnetId) : null;
  if (!s || !current) return;
  const gone = new Set(before.map((h) => `${h.macAddr}|${h.ipAddr}`));
  const hosts = [...current.hosts.filter((h) => !gone.has(`${h.macAddr}|${h.ipAddr}`)), ...after];
  let dhcp: Dhcp = { ...current, hosts };
  if (isDhcp(old) || isDhcp(p)) {
    const net = await t.tx.get<NNetwork>(NT.Network, s.network_id);
    dhcp = { ...dhcp, ...settings(s, net, p && isDhcp(p) ? dhcpAddress([p], subnetId) : undefined) };
  }
  await t.tx.update(T.Dhcp, dhcp);
}

export async function deleteSubnet(t: Translation, s: NSubnet): Promise<void> {
  await t.tx.delete(T.Dhcp, s.id, true);
}
