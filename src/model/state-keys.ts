import type { StateKey } from '../nsdb/backend.ts';
import { isIpv4, isUuid } from './net.ts';
import { T, type Route } from './types.ts';

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

/**
 * A learned route as a state value, checked: the route its agent published, or null for anything
 * else (an agent, or anyone who reached the stream, may have written junk; it must cost nothing).
 */
export function readLearnedRoute(router: string, json: string | null): Route | null {
  if (json === null || json.length > 4096) return null;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  const len = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 32;
  if (typeof r.id !== 'string' || !isUuid(r.id) || typeof r.nextHopPortId !== 'string' || !isUuid(r.nextHopPortId)) return null;
  if (typeof r.dstNetworkAddr !== 'string' || !isIpv4(r.dstNetworkAddr) || !len(r.dstNetworkLength)) return null;
  if (typeof r.nextHopGateway !== 'string' || !isIpv4(r.nextHopGateway)) return null;
  const weight = typeof r.weight === 'number' && Number.isInteger(r.weight) && r.weight >= 0 ? r.weight : 100;
  return {
    id: r.id, routerId: router, nextHopPortId: r.nextHopPortId, srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0,
    dstNetworkAddr: r.dstNetworkAddr, dstNetworkLength: r.dstNetworkLength as number, nextHopGateway: r.nextHopGateway,
    weight, attributes: null, type: 'Normal', learned: true,
  };
}

/**
 * Where each cluster node says how agents reach its API: `ClusterNode/all/endpoints/<node>`, owned by
 * the node's session, so it goes with the node (without a node: the directory of them all).
 */
export const clusterEndpointKey = (node?: string): StateKey => ({ type: 'ClusterNode', id: 'all', key: node ? `endpoints/${node}` : 'endpoints' });

/**
 * An agent's datapath figures, published on its host (key `stats`) every few seconds for the
 * console: flows installed, and since the agent started, packets simulated, flow hits and drops.
 */
export interface HostStats {
  flows: number;
  simulations: number;
  flowHits: number;
  dropped: number;
}

export const HOST_STATS = 'stats';

export function readHostStats(json: string | null): HostStats | null {
  if (json === null) return null;
  try {
    const v = JSON.parse(json) as Record<string, unknown>;
    const n = (k: string) => (typeof v[k] === 'number' && Number.isSafeInteger(v[k]) && (v[k] as number) >= 0 ? (v[k] as number) : null);
    const [flows, simulations, flowHits, dropped] = ['flows', 'simulations', 'flowHits', 'dropped'].map(n);
    if (flows === null || simulations === null || flowHits === null || dropped === null) return null;
    return { flows: flows!, simulations: simulations!, flowHits: flowHits!, dropped: dropped! };
  } catch {
    return null;
  }
}
