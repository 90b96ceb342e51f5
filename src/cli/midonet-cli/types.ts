/** An API object as JSON. */
export type Dto = Record<string, unknown> & { uri?: string; id?: string };

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
  /** refs: a comma-separated list of them. */
  list?: boolean;
  /** The DTO flag a leading "!" sets (rule conditions: `src !10.0.0.0/8`, `in-ports !port0`). */
  inv?: string;
  readOnly?: boolean;
}

export interface CliType {
  /** The word in commands: router, bridge, port, tunnel-zone, bgp-peer ... */
  name: string;
  /** Named after what they hold (tunnel-zone and port-group members, bindings): lines show the parent. */
  namedByParent?: boolean;
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
  /** One object, not a collection (system-state). */
  single?: boolean;
  /** A root collection the session's tenant (`sett`) filters. */
  tenantScoped?: boolean;
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

/** IP protocol names a rule's `proto` takes besides numbers. */
const PROTOCOLS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51, icmpv6: 58, sctp: 132 };

const proto: CliField = {
  ...num('proto', 'nwProto'),
  set: (d, v) => {
    const n = PROTOCOLS[v.toLowerCase()] ?? (/^\d+$/.test(v) ? Number(v) : NaN);
    if (!(n >= 0 && n <= 255)) throw new Error(`proto must be 0-255 or one of ${Object.keys(PROTOCOLS).join(', ')}, not "${v}"`);
    d.nwProto = n;
  },
};

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

const inverted = (f: CliField, inv: string): CliField => ({
  ...f,
  inv,
  get: (d) => {
    const v = f.get(d);
    return v !== null && d[inv] === true ? `!${v}` : v;
  },
});

const refList = (name: string, dto: string, type: string): CliField => ({
  name,
  ref: type,
  list: true,
  get: (d) => ((d[dto] as string[] | undefined)?.length ? (d[dto] as string[]).join(',') : null),
  set: (d, v) => void (d[dto] = v === '' ? [] : v.split(',')),
});

/** NAT targets as MidoNet's CLI writes them: a.b.c.d[-e.f.g.h][:p[-q]], comma-separated. */
const natTargets: CliField = {
  name: 'target',
  get: (d) => {
    const ts = d.natTargets as { addressFrom: string; addressTo: string; portFrom: number; portTo: number }[] | null;
    if (!ts?.length) return null;
    return ts.map((t) => `${t.addressFrom}${t.addressTo !== t.addressFrom ? `-${t.addressTo}` : ''}${t.portFrom ? `:${t.portFrom}${t.portTo !== t.portFrom ? `-${t.portTo}` : ''}` : ''}`).join(',');
  },
  set: (d, v) => {
    d.natTargets = v.split(',').map((t) => {
      const m = /^(\d+\.\d+\.\d+\.\d+)(?:-(\d+\.\d+\.\d+\.\d+))?(?::(\d+)(?:-(\d+))?)?$/.exec(t);
      if (!m) throw new Error(`target must be a.b.c.d[-e.f.g.h][:p[-q]], not "${t}"`);
      const from = Number(m[3] ?? 0);
      return { addressFrom: m[1], addressTo: m[2] ?? m[1], portFrom: from, portTo: Number(m[4] ?? from) };
    });
  },
};

const PORT_FIELDS: CliField[] = [
  { ...str('device', 'deviceId'), set: undefined, ref: 'router|bridge', readOnly: true },
  state,
  str('mac', 'portMac'),
  str('address', 'portAddress'),
  cidr('net', 'networkAddress', 'networkLength'),
  ref('peer', 'peerId', 'port'),
  ref('infilter', 'inboundFilterId', 'chain'),
  ref('outfilter', 'outboundFilterId', 'chain'),
];

export const TYPES: Record<string, CliType> = {
  router: {
    name: 'router', alias: 'router', label: 'router', media: 'Router-v3', listMedia: 'collection.Router-v3', collection: link('routers'), tenantScoped: true,
    fields: [str('name', 'name'), state, ref('infilter', 'inboundFilterId', 'chain'), ref('outfilter', 'outboundFilterId', 'chain'), num('asn', 'asNumber', true), str('tenant', 'tenantId')],
    children: ['port', 'route', 'bgp-peer', 'bgp-network'],
  },
  bridge: {
    name: 'bridge', alias: 'bridge', label: 'bridge', media: 'Bridge-v4', listMedia: 'collection.Bridge-v4', collection: link('bridges'), tenantScoped: true,
    fields: [str('name', 'name'), state, ref('infilter', 'inboundFilterId', 'chain'), ref('outfilter', 'outboundFilterId', 'chain'), str('tenant', 'tenantId')],
    children: ['port', 'dhcp'],
  },
  port: {
    name: 'port', alias: 'port', label: 'port', media: 'Port-v3', listMedia: 'collection.Port-v3', collection: child('ports'),
    fields: PORT_FIELDS,
    children: [],
    createDefaults: (p) => ({ type: p && String(p.uri).includes('/routers/') ? 'Router' : 'Bridge' }),
  },
  /** Every port of the cloud, as the root collection lists them. */
  'any-port': {
    name: 'port', alias: 'port', label: 'port', media: 'Port-v3', listMedia: 'collection.Port-v3', collection: link('ports'),
    fields: PORT_FIELDS,
    children: [],
    tenantScoped: true,
  },
  'system-state': {
    name: 'system-state', alias: 'system-state', label: 'system_state', media: 'SystemState-v2', listMedia: 'SystemState-v2', collection: link('systemState'),
    fields: [str('state', 'state'), str('availability', 'availability')],
    children: [],
    single: true,
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
    name: 'chain', alias: 'chain', label: 'chain', media: 'Chain-v1', listMedia: 'collection.Chain-v1', collection: link('chains'), tenantScoped: true,
    fields: [str('name', 'name'), str('tenant', 'tenantId')],
    children: ['rule'],
  },
  rule: {
    name: 'rule', alias: 'rule', label: 'rule', media: 'Rule-v2', listMedia: 'collection.Rule-v2', collection: child('rules'),
    fields: [
      str('type', 'type'),
      num('pos', 'position'),
      inverted(cidr('src', 'nwSrcAddress', 'nwSrcLength'), 'invNwSrc'),
      inverted(cidr('dst', 'nwDstAddress', 'nwDstLength'), 'invNwDst'),
      inverted(proto, 'invNwProto'),
      inverted(range('src-port', 'tpSrc'), 'invTpSrc'),
      inverted(range('dst-port', 'tpDst'), 'invTpDst'),
      inverted(refList('in-ports', 'inPorts', 'port'), 'invInPorts'),
      inverted(refList('out-ports', 'outPorts', 'port'), 'invOutPorts'),
      inverted(ref('port-group', 'portGroup', 'port-group'), 'invPortGroup'),
      ref('jump-to', 'jumpChainId', 'chain'),
      str('action', 'flowAction'),
      natTargets,
      str('fragment-policy', 'fragmentPolicy'),
      { name: 'return-flow', get: (d) => (d.matchReturnFlow ? 'true' : null), set: (d, v) => void (d.matchReturnFlow = v === 'true') },
      { name: 'forward-flow', get: (d) => (d.matchForwardFlow ? 'true' : null), set: (d, v) => void (d.matchForwardFlow = v === 'true') },
    ],
    children: [],
  },
  'port-group': {
    name: 'port-group', alias: 'pgroup', label: 'pgroup', media: 'PortGroup-v1', listMedia: 'collection.PortGroup-v1', collection: link('portGroups'), tenantScoped: true,
    fields: [str('name', 'name'), { name: 'stateful', get: (d) => String(d.stateful === true), set: (d, v) => void (d.stateful = v === 'true') }, str('tenant', 'tenantId')],
    children: ['pg-member'],
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
    namedByParent: true,
  },
  interface: {
    name: 'interface', alias: 'iface', label: 'iface', media: 'Interface-v1', listMedia: 'collection.Interface-v1', collection: (p) => `${String(p?.uri)}/interfaces`,
    fields: [str('name', 'name'), str('mac', 'mac'), num('mtu', 'mtu'), { name: 'addresses', get: (d) => ((d.addresses as string[]) ?? []).join(',') || null, readOnly: true }],
    children: [],
    key: (d) => String(d.name),
  },
  'tunnel-zone': {
    name: 'tunnel-zone', alias: 'tzone', label: 'tzone', media: 'TunnelZone-v1', listMedia: 'collection.TunnelZone-v1', collection: link('tunnelZones'), tenantScoped: true,
    fields: [str('name', 'name'), str('type', 'type')],
    children: ['member'],
  },
  member: {
    name: 'member', alias: 'memb', label: 'zone', media: 'TunnelZoneHost-v1', listMedia: 'collection.TunnelZoneHost-v1', collection: child('hosts'),
    fields: [ref('host', 'hostId', 'host'), str('address', 'ipAddress')],
    children: [],
    key: (d) => String(d.hostId),
    namedByParent: true,
  },
  'pg-member': {
    name: 'member', alias: 'pgport', label: 'pgroup', media: 'PortGroupPort-v1', listMedia: 'collection.PortGroupPort-v1', collection: child('ports'),
    fields: [ref('port', 'portId', 'port')],
    children: [],
    key: (d) => String(d.portId),
    namedByParent: true,
  },
  dhcp: {
    name: 'dhcp', alias: 'dhcp', label: 'dhcp', media: 'DhcpSubnet-v2', listMedia: 'collection.DhcpSubnet-v2', collection: child('dhcpSubnets'),
    fields: [
      cidr('subnet', 'subnetPrefix', 'subnetLength'),
      str('routers', 'defaultGateway'),
      str('server', 'serverAddr'),
      { name: 'dns-servers', get: (d) => ((d.dnsServerAddrs as string[] | null) ?? []).join(',') || null, set: (d, v) => void (d.dnsServerAddrs = v ? v.split(',') : null) },
      num('mtu', 'interfaceMTU'),
      { name: 'enabled', get: (d) => String(d.enabled !== false), set: (d, v) => void (d.enabled = v !== 'false') },
    ],
    children: ['dhcp-host'],
    key: (d) => `${String(d.subnetPrefix)}_${String(d.subnetLength)}`,
  },
  'dhcp-host': {
    name: 'host', alias: 'dhcp-host', label: 'dhcp-host', media: 'DhcpHost-v2', listMedia: 'collection.DhcpHost-v2', collection: child('hosts'),
    fields: [str('name', 'name'), str('mac', 'macAddr'), str('address', 'ipAddr')],
    children: [],
    key: (d) => String(d.macAddr),
  },
  tenant: {
    name: 'tenant', alias: 'tenant', label: 'tenant', media: 'Tenant-v2', listMedia: 'collection.Tenant-v2', collection: link('tenants'),
    fields: [str('name', 'name'), str('description', 'description'), { name: 'enabled', get: (d) => String(d.enabled !== false), readOnly: true }],
    children: [],
  },
  'ip-address-group': {
    name: 'ip-address-group', alias: 'ipg', label: 'ipg', media: 'IpAddrGroup-v1', listMedia: 'collection.IpAddrGroup-v1', collection: link('ipAddrGroups'),
    fields: [str('name', 'name')],
    children: ['ipg-addr'],
  },
  'ipg-addr': {
    name: 'ip', alias: 'addr', label: 'ip', media: 'IpAddrGroupAddr-v1', listMedia: 'collection.IpAddrGroupAddr-v1', collection: child('addrs'),
    fields: [str('address', 'addr')],
    children: [],
    key: (d) => String(d.addr),
  },
};

export const ROOT_TYPES = ['system-state', 'router', 'bridge', 'any-port', 'chain', 'host', 'port-group', 'ip-address-group', 'tunnel-zone', 'tenant'];

/** The type a command word means under a parent ("member" of a tunnel zone or of a port group). */
export function typeFor(children: readonly string[], word: string): string | null {
  return children.find((k) => TYPES[k]!.name === word) ?? null;
}
