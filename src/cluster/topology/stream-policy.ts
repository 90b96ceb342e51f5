/**
 * Who may do what on the topology stream: the admin anything; an agent (role `host`) follows
 * single objects and state, and writes only the state of its own host and of the ports bound to
 * it. Every value written is checked against what its key holds, whoever writes it, so junk never
 * reaches an agent or the API.
 */
import type { User } from '../api/auth.ts';
import { isIpv4, isMac, isUuid } from '../../model/net.ts';
import { NT } from '../../model/neutron.ts';
import { HOST_STATS, readHostStats, readLearnedRoute } from '../../model/state-keys.ts';
import { T, type Port } from '../../model/types.ts';
import type { StateKey } from '../../nsdb/backend.ts';
import type { Store } from '../../nsdb/store.ts';
import { NAT_BLOCK_TYPE } from '../../model/topology-protocol.ts';

const TOPOLOGY_TYPES = new Set<string>([...Object.values(T), NT.Port]);
const MAX_VALUE = 65536;

const isAdmin = (u: User) => u.roles.includes('admin');

/** Whether the user may open the stream at all. */
export const mayConnect = (u: User): boolean => isAdmin(u) || (u.roles.includes('host') && typeof u.hostId === 'string');

/** Why a subscription is refused, or null. */
export function readRefusal(u: User, op: string, type: string): string | null {
  if (isAdmin(u)) return null;
  if (op === 'watchType') return 'only the admin may follow a whole type';
  if (op === 'watch' && !TOPOLOGY_TYPES.has(type)) return `a host may not follow ${type} objects`;
  return null;
}

const uint = (s: string, max: number) => /^\d{1,15}$/.test(s) && Number(s) <= max;

/** What a value must look like for its key; null when it does. */
function valueRefusal(k: StateKey, value: string): string | null {
  if (value.length > MAX_VALUE) return 'value too long';
  const [head, ...rest] = k.key.split('/');
  const tail = rest.join('/');
  const bad = (what: string) => `${k.type} ${k.key}: ${what}`;
  switch (`${k.type}:${head}`) {
    case `${T.Host}:alive`: return value === 'true' ? null : bad('value must be true');
    case `${T.Host}:host`: {
      try {
        const v = JSON.parse(value) as { interfaces?: unknown };
        return Array.isArray(v.interfaces) ? null : bad('value must be {"interfaces": [...]}');
      } catch {
        return bad('value must be JSON');
      }
    }
    case `${T.Host}:${HOST_STATS}`: return readHostStats(value) ? null : bad('value must be {"flows", "simulations", "flowHits", "dropped"}');
    case `${T.Port}:active`: return isUuid(value) ? null : bad('value must be the host id');
    case `${T.Port}:bgp`: return value.length <= 256 ? null : bad('value too long');
    case `${T.Router}:learned_routes`: {
      const r = readLearnedRoute(k.id, value);
      if (!r) return bad('value is not a route');
      return tail.startsWith(`${r.nextHopPortId}_`) ? null : bad('the name must start with the next hop port');
    }
    case `${T.Router}:arp_table`: return uint(tail, 0xffffffff) && uint(value, 0xffffffffffff) ? null : bad('an IPv4 and a MAC, as numbers');
    case `${T.Network}:arp_table`: return isIpv4(tail) && isMac(value) ? null : bad('an IPv4 address holding a MAC');
    case `${T.Network}:mac_table`: return value === '' ? null : bad('MAC table entries hold no value');
    case `${NAT_BLOCK_TYPE}:${head}`: return rest.length === 1 && uint(head!, 0xffffffff) && uint(tail, 1023) ? null : bad('<ip>/<block>');
    default: return null;
  }
}

/**
 * Why a state write is refused, or null: the value must fit its key, and a host writes only its
 * own host's keys, the keys of ports bound to it, routes it learned through them, router ARP
 * entries and NAT blocks.
 */
export async function writeRefusal(store: Store, u: User, k: StateKey, value: string | null): Promise<string | null> {
  if (value !== null) {
    const why = valueRefusal(k, value);
    if (why) return why;
  }
  if (isAdmin(u)) return null;
  const host = u.hostId!;
  const [head, ...rest] = k.key.split('/');
  const boundHere = async (portId: string) => (await store.tryGet<Port>(T.Port, portId))?.hostId === host;
  switch (`${k.type}:${head}`) {
    case `${T.Host}:alive`:
    case `${T.Host}:host`:
    case `${T.Host}:${HOST_STATS}`:
      return k.id === host ? null : 'a host writes only its own host keys';
    case `${T.Port}:active`:
    case `${T.Port}:bgp`:
      if (!(await boundHere(k.id))) return `port ${k.id} is not bound to this host`;
      return head === 'active' && value !== null && value !== host ? 'a port is active on the host that binds it' : null;
    case `${T.Router}:learned_routes`: {
      const port = rest.join('/').split('_')[0]!;
      const p = await store.tryGet<Port>(T.Port, port);
      return p?.hostId === host && p.routerId === k.id ? null : 'routes are learned through a router port bound to this host';
    }
    case `${T.Router}:arp_table`:
    case `${NAT_BLOCK_TYPE}:${head}`:
      return null;
    case `${T.Network}:mac_table`: {
      // mac_table/<vlan>/<mac>_<port>: MACs learned on the host's own ports of this bridge.
      const port = rest.join('/').split('_')[1] ?? '';
      const p = await store.tryGet<Port>(T.Port, port);
      return p?.hostId === host && p.networkId === k.id ? null : 'MACs are learned on a port of the bridge bound to this host';
    }
    default:
      return `a host may not write ${k.type} ${k.key}`;
  }
}
