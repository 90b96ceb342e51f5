import type { HostInterface, TunnelZone, Uuid } from '../model/types.ts';

/**
 * What an encapsulation adds to a VM's IP packet on the underlay: the inner Ethernet header, the
 * tunnel header (VXLAN and its UDP; GRE with a key) and the outer IPv4 header.
 */
export const TUNNEL_OVERHEAD: Record<'vxlan' | 'gre', number> = { vxlan: 14 + 8 + 8 + 20, gre: 14 + 8 + 20 };

/**
 * The largest IP packet a VM on this host can send whole through every tunnel zone the host is
 * in: the MTU of the interface holding the host's tunnel address, less the zone's overhead.
 * Null when the host is in no zone or its address is on no interface here.
 */
export function tunnelMtu(zones: readonly TunnelZone[], hostId: Uuid, interfaces: readonly HostInterface[]): number | null {
  let best: number | null = null;
  for (const tz of zones) {
    const address = tz.hostAddresses[hostId];
    if (tz.type === 'vtep' || !address) continue;
    const underlay = interfaces.find((i) => i.addresses.includes(address));
    if (!underlay?.mtu) continue;
    const mtu = underlay.mtu - TUNNEL_OVERHEAD[tz.type];
    best = best === null ? mtu : Math.min(best, mtu);
  }
  return best;
}
