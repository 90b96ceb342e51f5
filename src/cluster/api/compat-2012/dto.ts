/**
 * MidoNet 12.12's API objects (what CloudStack's MidoNet plugin and its midonet-client 12.12.2 send
 * and read) to and from the v5 API's, field by field. Where 2012 meant something v5 says another way
 * the meaning is kept: flat port ranges, position 0 to append, one DNS server, port types that say
 * interior or exterior.
 */

export type Json = Record<string, unknown>;

/** The 2012 media type's name -> the v5 one the same resource answers in. */
export const V5_MEDIA: Record<string, string> = {
  Application: 'Application-v5', Router: 'Router-v3', Bridge: 'Bridge-v4', Chain: 'Chain-v1', Rule: 'Rule-v2',
  Route: 'Route-v1', Port: 'Port-v3', DhcpSubnet: 'DhcpSubnet-v2', DhcpHost: 'DhcpHost-v2', Host: 'Host-v3',
  PortGroup: 'PortGroup-v1', TunnelZone: 'TunnelZone-v1', HostInterfacePort: 'HostInterfacePort-v1', Interface: 'Interface-v1',
};

export const MGMT = 'application/vnd.com.midokura.midolman.mgmt.';

/** The resource a 2012 media type names ("Port", "collection.Rule" -> "Rule"), and whether it is a list. */
export function parseMedia(header: string | undefined): { name: string; collection: boolean } | null {
  const m = /application\/vnd\.com\.midokura\.midolman\.mgmt\.(collection\.)?(\w+)\+json/i.exec(header ?? '');
  if (!m || !V5_MEDIA[m[2]!]) return null;
  return { name: m[2]!, collection: m[1] !== undefined };
}

/** Port types of 2012: the device and whether the port is for linking (interior) or plugging (exterior). */
export type PortType2012 = 'ExteriorBridge' | 'InteriorBridge' | 'ExteriorRouter' | 'InteriorRouter';
const PORT_TYPES: readonly string[] = ['ExteriorBridge', 'InteriorBridge', 'ExteriorRouter', 'InteriorRouter'];
export const isPortType = (t: unknown): t is PortType2012 => typeof t === 'string' && PORT_TYPES.includes(t);

/** What v5 does not keep and the front does, per object: a port's declared type, a rule's properties. */
export interface Extra {
  id: string;
  portType?: PortType2012;
  properties?: Record<string, string> | null;
}

const range = (start: unknown, end: unknown) => ({ start: Number(start), end: Number(end) });

/** A 2012 rule body as v5 takes it. `append`: the position when 2012 said 0 (the end of the chain). */
export function ruleToV5(r: Json, append: number): Json {
  const out: Json = { ...r };
  for (const k of ['tpSrcStart', 'tpSrcEnd', 'tpDstStart', 'tpDstEnd', 'properties', 'uri', 'chainId', 'condInvert']) delete out[k];
  const icmp = Number(r.nwProto) === 1;
  // 0..0 means "no condition", except for ICMP, whose type and code ride in the port fields.
  for (const [side, s, e] of [['tpSrc', r.tpSrcStart, r.tpSrcEnd], ['tpDst', r.tpDstStart, r.tpDstEnd]] as const) {
    const given = s !== null && s !== undefined && e !== null && e !== undefined;
    out[side] = given && (icmp || Number(s) !== 0 || Number(e) !== 0) ? range(s, e) : null;
  }
  for (const k of ['nwProto', 'nwTos', 'dlType']) if (out[k] === 0) out[k] = null;
  for (const side of ['Src', 'Dst']) {
    if (!out[`nw${side}Address`]) {
      out[`nw${side}Address`] = null;
      out[`nw${side}Length`] = null;
    }
  }
  if (!r.position) out.position = append;
  return out;
}

/** A v5 rule as 2012 shows it: flat port ranges (0 for none), 0 for no protocol, the stored properties. */
export function ruleFrom5(r: Json, extra: Extra | undefined): Json {
  const out: Json = { ...r };
  for (const side of ['tpSrc', 'tpDst']) {
    const v = r[side] as { start: number; end: number } | null;
    out[`${side}Start`] = v?.start ?? 0;
    out[`${side}End`] = v?.end ?? 0;
    delete out[side];
  }
  out.nwProto ??= 0;
  out.nwTos ??= 0;
  out.properties = extra?.properties ?? null;
  return out;
}

/** A 2012 port body as v5 takes it. */
export function portToV5(p: Json): Json {
  const out: Json = { ...p };
  for (const k of ['link', 'peer', 'peerId', 'inboundFilter', 'outboundFilter', 'portGroups', 'bgps', 'vpns', 'uri']) delete out[k];
  out.type = String(p.type).endsWith('Router') ? 'Router' : 'Bridge';
  return out;
}

/** A v5 port as 2012 shows it: interior or exterior as it was declared (else by whether it is linked), and its link. */
export function portFrom5(p: Json, extra: Extra | undefined): Json {
  const device = p.type === 'Router' ? 'Router' : 'Bridge';
  const kind = extra?.portType ?? `${p.peerId ? 'Interior' : 'Exterior'}${device}`;
  return { ...p, type: kind, link: `${String(p.uri)}/link` };
}

/** 2012's DHCP subnet had one DNS server. */
export function dhcpToV5(d: Json): Json {
  const out: Json = { ...d, dnsServerAddrs: d.dnsServerAddr ? [d.dnsServerAddr] : null };
  for (const k of ['dnsServerAddr', 'hosts', 'uri']) delete out[k];
  if (out.interfaceMTU === 0) delete out.interfaceMTU;
  return out;
}

export function dhcpFrom5(d: Json): Json {
  return { ...d, dnsServerAddr: (d.dnsServerAddrs as string[] | null)?.[0] ?? null };
}
