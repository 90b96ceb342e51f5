/**
 * Subnet -> the bridge's DHCP subnet (same id). Inputs: the subnet, its network, and the network's
 * ports: VM ports give the DHCP host entries, a DHCP port the server address.
 */
import { parseCidr } from '../../../model/net.ts';
import { T, type Dhcp, type DhcpHost } from '../../../model/types.ts';
import { DEVICE_OWNER, isNetworkOwned, METADATA_ADDRESS, NT, type NNetwork, type NPort, type NSubnet } from '../../../model/neutron.ts';
import type { Translation } from './context.ts';

function hostsOf(s: NSubnet, ports: NPort[]): DhcpHost[] {
  const out: DhcpHost[] = [];
  for (const p of ports) {
    if (isNetworkOwned(p)) continue;
    for (const ip of p.fixed_ips) {
      if (ip.subnet_id !== s.id) continue;
      out.push({
        macAddr: p.mac_address,
        ipAddr: ip.ip_address,
        name: p.name,
        extraDhcpOpts: p.extra_dhcp_opts.map((o) => ({ optName: o.opt_name, optValue: o.opt_value })),
      });
    }
  }
  return out;
}

/** Makes the DHCP subnet match the Neutron subnet and the ports now on it. */
export async function syncSubnet(t: Translation, s: NSubnet): Promise<void> {
  const net = await t.tx.tryGet<NNetwork>(NT.Network, s.network_id);
  const cidr = parseCidr(s.cidr);
  if (!net || !cidr || s.ip_version !== 4 || !(await t.tx.exists(T.Network, net.id))) return;
  const ports = (await t.tx.scan<NPort>(NT.Port)).filter((p) => p.network_id === s.network_id);
  const dhcpPortIp = ports
    .filter((p) => p.device_owner === DEVICE_OWNER.dhcp)
    .flatMap((p) => p.fixed_ips)
    .find((ip) => ip.subnet_id === s.id)?.ip_address;
  const opt121 = s.host_routes.map((r) => {
    const d = parseCidr(r.destination)!;
    return { destinationPrefix: d.address, destinationLength: d.length, gatewayAddr: r.nexthop };
  });
  if (dhcpPortIp) opt121.push({ destinationPrefix: METADATA_ADDRESS, destinationLength: 32, gatewayAddr: dhcpPortIp });
  const dhcp: Dhcp = {
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
    hosts: hostsOf(s, ports),
  };
  if (await t.tx.exists(T.Dhcp, s.id)) await t.tx.update(T.Dhcp, dhcp);
  else await t.tx.create(T.Dhcp, dhcp);
}

export async function deleteSubnet(t: Translation, s: NSubnet): Promise<void> {
  await t.tx.delete(T.Dhcp, s.id, true);
}
