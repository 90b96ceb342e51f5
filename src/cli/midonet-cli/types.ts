import type { Dto } from './client.ts';

/**
 * How midonet-cli shows and sets one field: its CLI name, and how it maps to the DTO. `ref`
 * fields hold ids shown as aliases of that type (e.g. infilter -> chain0).
 */
export interface CliField {
  name: string;
  /** Read: the value to print, or null to leave the field out. */
  get(d: Dto): string | null;
  /** Write: sets the DTO from the CLI value(s). */
  set?(d: Dto, value: string): void;
  ref?: string;
  /** A cidr "a.b.c.d/n" split over two DTO fields. */
  readOnly?: boolean;
}

export interface CliType {
  /** The word in commands: router, bridge, port, tunnel-zone, bgp-peer ... */
  name: string;
  /** Alias prefix: router0, port0, tzone0, peer0, net0 ... */
  alias: string;
  /** What a listed line starts with (MidoNet prints "tzone tzone0", "zone tzone0 host host0"). */
  label: string;
  media: string;
  listMedia: string;
  /** Collection URI: from the root document, or relative to the parent object. */
  collection(parent: Dto | null, root: Dto): string;
  fields: CliField[];
  children: string[];
  /** Extra body fields on create (port types). */
  createDefaults?(parent: Dto | null): Dto;
  /** Members and bindings have no id: how to find one again. */
  key?(d: Dto): string;
}

const str = (name: string, dto: string): CliField => ({
  name,
  get: (d) => (d[dto] === null || d[dto] === undefined || d[dto] === '' ? null : String(d[dto])),
  set: (d, v) => void (d[dto] = v),
});

const num = (name: string, dto: string, hideZero = false): CliField => ({
  name,
  get: (d) => (d[dto] === null || d[dto] === undefined || (hideZero && d[dto] === 0) ? null : String(d[dto])),
  set: (d, v) => {
    if (!/^-?\d+$/.test(v)) throw new Error(`${name} must be a number, not "${v}"`);
    d[dto] = Number(v);
  },
});

const ref = (name: string, dto: string, type: string): CliField => ({ ...str(name, dto), ref: type });

const state: CliField = {
  name: 'state',
  get: (d) => (d.adminStateUp === false ? 'down' : 'up'),
  set: (d, v) => {
    if (v !== 'up' && v !== 'down') throw new Error(`state must be up or down, not "${v}"`);
    d.adminStateUp = v === 'up';
  },
};

const cidr = (name: string, addr: string, len: string): CliField => ({
  name,
  get: (d) => (d[addr] ? `${String(d[addr])}/${String(d[len] ?? 32)}` : null),
  set: (d, v) => {
    const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?$/.exec(v);
    if (!m) throw new Error(`${name} must be an address/length, not "${v}"`);
    d[addr] = m[1];
    d[len] = Number(m[2] ?? 32);
  },
});

const ROUTE_TYPES: Record<string, string> = { normal: 'Normal', blackhole: 'BlackHole', reject: 'Reject', local: 'Local' };

const range = (name: string, dto: string): CliField => ({
  name,
  get: (d) => {
    const r = d[dto] as { start: number; end: number } | null;
    return r ? (r.start === r.end ? String(r.start) : `${r.start}-${r.end}`) : null;
  },
  set: (d, v) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(v);
    if (!m) throw new Error(`${name} must be a port or a range a-b, not "${v}"`);
    d[dto] = { start: Number(m[1]), end: Number(m[2] ?? m[1]) };
  },
});

const link = (key: string) => (_p: Dto | null, root: Dto) => String(root[key]);
const child = (key: string) => (p: Dto | null) => String(p?.[key]);

export const TYPES: Record<string, CliType> = {
  router: {
    name: 'router', alias: 'router', label: 'router', media: 'Router-v3', listMedia: 'collection.Router-v3', collection: link('routers'),
    fields: [str('name', 'name'), state, ref('infilter', 'inboundFilterId', 'chain'), ref('outfilter', 'outboundFilterId', 'chain'), num('asn', 'asNumber', true), str('tenant', 'tenantId')],
    children: ['port', 'route', 'bgp-peer', 'bgp-network'],
  },
  bridge: {
    name: 'bridge', alias: 'bridge', label: 'bridge', media: 'Bridge-v4', listMedia: 'collection.Bridge-v4', collection: link('bridges'),
    fields: [str('name', 'name'), state, ref('infilter', 'inboundFilterId', 'chain'), ref('outfilter', 'outboundFilterId', 'chain'), str('tenant', 'tenantId')],
    children: ['port'],
  },
  port: {
    name: 'port', alias: 'port', label: 'port', media: 'Port-v3', listMedia: 'collection.Port-v3', collection: child('ports'),
    fields: [
      { name: 'device', get: () => null, readOnly: true },
      state,
      str('mac', 'portMac'),
      str('address', 'portAddress'),
      cidr('net', 'networkAddress', 'networkLength'),
      ref('peer', 'peerId', 'port'),
      ref('infilter', 'inboundFilterId', 'chain'),
      ref('outfilter', 'outboundFilterId', 'chain'),
    ],
    children: [],
    createDefaults: (p) => ({ type: p && String(p.uri).includes('/routers/') ? 'Router' : 'Bridge' }),
  },
  route: {
    name: 'route', alias: 'route', label: 'route', media: 'Route-v1', listMedia: 'collection.Route-v1', collection: child('routes'),
    fields: [
      { name: 'type', get: (d) => String(d.type).toLowerCase(), set: (d, v) => {
        const t = ROUTE_TYPES[v.toLowerCase()];
        if (!t) throw new Error(`route type must be one of ${Object.keys(ROUTE_TYPES).join(', ')}`);
        d.type = t;
      } },
      cidr('src', 'srcNetworkAddr', 'srcNetworkLength'),
      cidr('dst', 'dstNetworkAddr', 'dstNetworkLength'),
      str('gw', 'nextHopGateway'),
      ref('port', 'nextHopPort', 'port'),
      num('weight', 'weight'),
    ],
    children: [],
    createDefaults: () => ({ type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, weight: 100 }),
  },
  'bgp-peer': {
    name: 'bgp-peer', alias: 'peer', label: 'peer', media: 'BgpPeer-v1', listMedia: 'collection.BgpPeer-v1', collection: child('bgpPeers'),
    fields: [num('asn', 'asNumber'), str('address', 'address'), num('keep-alive', 'keepAlive'), num('hold-time', 'holdTime'), num('connect-retry', 'connectRetry'), { ...str('password', 'password'), get: () => null }],
    children: [],
  },
  'bgp-network': {
    name: 'bgp-network', alias: 'net', label: 'net', media: 'BgpNetwork-v1', listMedia: 'collection.BgpNetwork-v1', collection: child('bgpNetworks'),
    fields: [cidr('net', 'subnetAddress', 'subnetLength')],
    children: [],
  },
  chain: {
    name: 'chain', alias: 'chain', label: 'chain', media: 'Chain-v1', listMedia: 'collection.Chain-v1', collection: link('chains'),
    fields: [str('name', 'name'), str('tenant', 'tenantId')],
    children: ['rule'],
  },
  rule: {
    name: 'rule', alias: 'rule', label: 'rule', media: 'Rule-v2', listMedia: 'collection.Rule-v2', collection: child('rules'),
    fields: [
      str('type', 'type'),
      num('pos', 'position'),
      { ...cidr('src', 'nwSrcAddress', 'nwSrcLength') },
      { ...cidr('dst', 'nwDstAddress', 'nwDstLength') },
      num('proto', 'nwProto'),
      range('src-port', 'tpSrc'),
      range('dst-port', 'tpDst'),
      ref('jump-to', 'jumpChainId', 'chain'),
      str('action', 'flowAction'),
    ],
    children: [],
  },
  host: {
    name: 'host', alias: 'host', label: 'host', media: 'Host-v3', listMedia: 'collection.Host-v3', collection: link('hosts'),
    fields: [str('name', 'name'), { name: 'alive', get: (d) => String(d.alive === true), readOnly: true }],
    children: ['binding', 'interface'],
  },
  binding: {
    name: 'binding', alias: 'binding', label: 'binding', media: 'HostInterfacePort-v1', listMedia: 'collection.HostInterfacePort-v1', collection: child('ports'),
    fields: [ref('host', 'hostId', 'host'), ref('port', 'portId', 'port'), str('interface', 'interfaceName')],
    children: [],
    key: (d) => String(d.portId),
  },
  interface: {
    name: 'interface', alias: 'iface', label: 'iface', media: 'Interface-v1', listMedia: 'collection.Interface-v1', collection: (p) => `${String(p?.uri)}/interfaces`,
    fields: [str('name', 'name'), str('mac', 'mac'), num('mtu', 'mtu'), { name: 'addresses', get: (d) => ((d.addresses as string[]) ?? []).join(',') || null, readOnly: true }],
    children: [],
    key: (d) => String(d.name),
  },
  'tunnel-zone': {
    name: 'tunnel-zone', alias: 'tzone', label: 'tzone', media: 'TunnelZone-v1', listMedia: 'collection.TunnelZone-v1', collection: link('tunnelZones'),
    fields: [str('name', 'name'), str('type', 'type')],
    children: ['member'],
  },
  member: {
    name: 'member', alias: 'memb', label: 'zone', media: 'TunnelZoneHost-v1', listMedia: 'collection.TunnelZoneHost-v1', collection: child('hosts'),
    fields: [ref('host', 'hostId', 'host'), str('address', 'ipAddress')],
    children: [],
    key: (d) => String(d.hostId),
  },
};

export const ROOT_TYPES = ['router', 'bridge', 'chain', 'host', 'tunnel-zone'];
