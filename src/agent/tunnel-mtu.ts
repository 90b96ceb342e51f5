import type { HostInterface, TunnelZone, Uuid } from '../model/types.ts';

/**
 * What an encapsulation adds to a VM's IP packet on the underlay: the inner Ethernet header, the
 * tunnel header (VXLAN and its UDP; GRE with a key) and the outer IPv4 header.
 */
export const TUNNEL_OVERHEAD: Record<'vxlan' | 'gre', number> = { vxlan: 14 + 8 + 8 + 20, gre: 14 + 8 + 20 };

/** The interfaces holding this host's tunnel addresses, with each zone's encapsulation. */
export function underlays(zones: readonly TunnelZone[], hostId: Uuid, interfaces: readonly HostInterface[]): { iface: HostInterface; encap: 'vxlan' | 'gre' }[] {
  const found: { iface: HostInterface; encap: 'vxlan' | 'gre' }[] = [];
  for (const tz of zones) {
    const address = tz.hostAddresses[hostId];
    if (tz.type === 'vtep' || !address) continue;
    const iface = interfaces.find((i) => i.addresses.includes(address));
    if (iface) found.push({ iface, encap: tz.type });
  }
  return found;
}

/**
 * The largest IP packet a VM on this host can send whole through every tunnel zone the host is
 * in: the MTU of the interface holding the host's tunnel address, less the zone's overhead.
 * Null when the host is in no zone or its address is on no interface here.
 */
export function tunnelMtu(zones: readonly TunnelZone[], hostId: Uuid, interfaces: readonly HostInterface[]): number | null {
  const mtus = underlays(zones, hostId, interfaces).filter((u) => u.iface.mtu > 0).map((u) => u.iface.mtu - TUNNEL_OVERHEAD[u.encap]);
  return mtus.length > 0 ? Math.min(...mtus) : null;
}
