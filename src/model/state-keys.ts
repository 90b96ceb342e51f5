import type { StateKey } from '../nsdb/backend.ts';
import { T } from './types.ts';

/** A bridge's MAC table: state keys mac_table/<vlan>/<mac>_<port> (without a port: the VLAN's folder). */
export const macTableKey = (bridge: string, vlan: number, mac: string, port?: string): StateKey => ({
  type: T.Network,
  id: bridge,
  key: port === undefined ? `mac_table/${vlan}` : `mac_table/${vlan}/${mac}_${port}`,
});

/** A bridge's ARP table: state keys arp_table/<ip> holding the MAC (without an address: the folder). */
export const arpTableKey = (bridge: string, ip?: string): StateKey => ({ type: T.Network, id: bridge, key: ip ? `arp_table/${ip}` : 'arp_table' });
