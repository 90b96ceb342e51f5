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

/**
 * Routes an agent learned for a router (BGP): state keys learned_routes/<name> holding the Route
 * as JSON, owned by the agent's session, so they go when its speaker or the agent does.
 */
export const learnedRouteKey = (router: string, name?: string): StateKey => ({ type: T.Router, id: router, key: name ? `learned_routes/${name}` : 'learned_routes' });

/** A learned route's name: one per router port and destination. */
export const learnedRouteName = (portId: string, dst: string, length: number): string => `${portId}_${dst}_${length}`;
