/**
 * The shape of each stored object as an agent reads it: the fields it follows references by and
 * iterates. An object that arrives from the network in another shape is refused where it enters,
 * so no later loop or lookup meets a number where a list should be.
 */
import { NT } from './neutron.ts';
import { T } from './types.ts';

type Kind = 'id?' | 'ids' | 'str' | 'str?' | 'strs' | 'num' | 'num?' | 'bool' | 'list' | 'map';

const FILTERS = { inboundFilterId: 'id?', outboundFilterId: 'id?' } as const;

const SHAPES: Record<string, Record<string, Kind>> = {
  [T.Port]: {
    ...FILTERS, networkId: 'id?', routerId: 'id?', vtepId: 'id?', peerId: 'id?', hostId: 'id?', interfaceName: 'str?', tunnelKey: 'num',
    vlanId: 'num?', portSubnet: 'strs', portMac: 'str?', portGroupIds: 'ids', routeIds: 'ids', adminStateUp: 'bool',
  },
  [T.Network]: { ...FILTERS, portIds: 'ids', dhcpIds: 'ids', adminStateUp: 'bool', name: 'str?' },
  [T.Router]: {
    ...FILTERS, portIds: 'ids', routeIds: 'ids', bgpPeerIds: 'ids', bgpNetworkIds: 'ids', localRedirectChainId: 'id?', forwardChainId: 'id?',
    adminStateUp: 'bool', asNumber: 'num?', name: 'str?',
  },
  [T.Chain]: { ruleIds: 'ids', name: 'str?' },
  [T.Rule]: { chainId: 'id?', type: 'str', jumpChainId: 'id?', inPorts: 'ids', outPorts: 'ids', natTargets: 'list' },
  [T.Route]: {
    routerId: 'id?', nextHopPortId: 'id?', srcNetworkAddr: 'str', srcNetworkLength: 'num', dstNetworkAddr: 'str', dstNetworkLength: 'num',
    nextHopGateway: 'str?', weight: 'num', type: 'str',
  },
  [T.Host]: { portIds: 'ids', tunnelZoneIds: 'ids', name: 'str?' },
  [T.TunnelZone]: { hostIds: 'ids', hostAddresses: 'map', type: 'str' },
  [T.PortGroup]: { portIds: 'ids', stateful: 'bool' },
  [T.IpAddrGroup]: { addresses: 'strs' },
  [T.Dhcp]: { networkId: 'id?', hosts: 'list', opt121Routes: 'list', enabled: 'bool', subnetAddress: 'str', subnetLength: 'num' },
  [T.BgpPeer]: { routerId: 'str', asNumber: 'num', address: 'str' },
  [T.BgpNetwork]: { routerId: 'str', subnetAddress: 'str', subnetLength: 'num' },
  [NT.Port]: { fixed_ips: 'list', tenant_id: 'str', device_id: 'str' },
};

const strs = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

function fits(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'id?': case 'str?': return v === null || v === undefined || typeof v === 'string';
    case 'str': return typeof v === 'string';
    case 'ids': case 'strs': return strs(v);
    case 'num': return typeof v === 'number' && Number.isFinite(v);
    case 'num?': return v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));
    case 'bool': return typeof v === 'boolean';
    case 'list': return v === null || v === undefined || Array.isArray(v);
    case 'map': return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

/** Whether a stored object of `type` has the shape an agent relies on (unknown types: an object with an id). */
export function hasShape(type: string, o: unknown): o is { id: string } & Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof (o as { id?: unknown }).id !== 'string') return false;
  const shape = SHAPES[type];
  if (!shape) return true;
  for (const [field, kind] of Object.entries(shape)) if (!fits(kind, (o as Record<string, unknown>)[field])) return false;
  return true;
}
