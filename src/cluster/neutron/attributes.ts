import { isIpv4, isMac, isUuid, parseCidr } from '../../model/net.ts';
import { badRequest } from './errors.ts';

/** Converts and checks one attribute's value; throws the reason it is invalid. */
type Check = (v: unknown) => unknown;

/** One attribute of a Neutron resource, as Neutron's RESOURCE_ATTRIBUTE_MAP describes it. */
interface Attr {
  post: boolean;
  put: boolean;
  required?: boolean;
  check: Check;
}

class Invalid extends Error {}
const fail = (why: string): never => {
  throw new Invalid(why);
};

const show = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

export const str: Check = (v) => (typeof v === 'string' ? v : fail(`${show(v)} is not a valid string`));
const strOrNull: Check = (v) => (v === null ? null : str(v));
export const bool: Check = (v) => {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  return fail(`${show(v)} cannot be converted to boolean`);
};
const uuid: Check = (v) => (typeof v === 'string' && isUuid(v) ? v.toLowerCase() : fail(`${show(v)} is not a valid UUID`));
const uuidOrNull: Check = (v) => (v === null ? null : uuid(v));
const ip: Check = (v) => (typeof v === 'string' && isIpv4(v) ? v : fail(`${show(v)} is not a valid IP address`));
const ipOrNull: Check = (v) => (v === null ? null : ip(v));
const cidr: Check = (v) => (typeof v === 'string' && parseCidr(v) ? v : fail(`${show(v)} is not a valid IP subnet`));
const ipOrCidr: Check = (v) => (typeof v === 'string' && (isIpv4(v) || parseCidr(v)) ? v : fail(`${show(v)} is not a valid IP address or subnet`));
/** A unicast MAC, as Neutron's validator wants it (a multicast or broadcast address is no port's). */
const mac: Check = (v) => {
  if (typeof v !== 'string' || !isMac(v)) return fail(`${show(v)} is not a valid MAC address`);
  return (parseInt(v.slice(0, 2), 16) & 1) === 1 ? fail(`${show(v)} is not a valid MAC address`) : v.toLowerCase();
};
const intIn = (lo: number, hi: number): Check => (v) => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= lo && n <= hi ? n : fail(`${show(v)} is not an integer between ${lo} and ${hi}`);
};
const intOrNull = (lo: number, hi: number): Check => (v) => (v === null ? null : intIn(lo, hi)(v));
/** A security group rule's port, refused in Neutron's words (SecurityGroupInvalidPortValue). */
const rulePort: Check = (v) => {
  if (v === null) return null;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  throw badRequest(`Invalid value for port ${typeof v === 'string' ? v : JSON.stringify(v)}`);
};
const oneOf = (values: readonly string[]): Check => (v) => (typeof v === 'string' && values.includes(v) ? v : fail(`${show(v)} is not in [${values.join(', ')}]`));
const list = (each: Check): Check => (v) => (Array.isArray(v) ? v.map(each) : fail(`${show(v)} is not a list`));
const dict = (fields: Record<string, Check>, required: string[] = []): Check => (v) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(`${show(v)} is not a dictionary`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in fields)) fail(`Unexpected key '${k}' in ${show(v)}`);
  for (const k of required) if (!(k in o)) fail(`Key '${k}' is missing in ${show(v)}`);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fields[k]!(x)]));
};
const dictOrNull = (fields: Record<string, Check>, required: string[] = []): Check => (v) => (v === null ? null : dict(fields, required)(v));
const anyDict: Check = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : v === null ? {} : fail(`${show(v)} is not a dictionary`));
const anyList: Check = (v) => (Array.isArray(v) ? v : fail(`${show(v)} is not a list`));

const a = (check: Check, post = true, put = true, required = false): Attr => ({ post, put, check, required });
const postOnly = (check: Check, required = false) => a(check, true, false, required);

const standard = {
  name: a(str),
  description: a(str),
  tenant_id: postOnly(str),
  project_id: postOnly(str),
};

const route = dict({ destination: cidr, nexthop: ip }, ['destination', 'nexthop']);

const gatewayInfo = dictOrNull({
  network_id: uuid,
  enable_snat: bool,
  external_fixed_ips: list(dict({ subnet_id: uuid, ip_address: ip })),
}, ['network_id']);

/** What each resource accepts on POST and PUT. */
export const ATTRIBUTES: Record<string, Record<string, Attr>> = {
  network: {
    ...standard,
    admin_state_up: a(bool),
    shared: a(bool),
    'router:external': a(bool),
    'provider:network_type': postOnly(str),
    'provider:physical_network': postOnly(strOrNull),
    'provider:segmentation_id': postOnly(intOrNull(0, 16777215)),
    mtu: a(intIn(68, 65535)),
    port_security_enabled: a(bool),
    qos_policy_id: a(uuidOrNull),
    availability_zone_hints: postOnly(list(str)),
  },
  subnet: {
    ...standard,
    network_id: postOnly(uuid, true),
    ip_version: postOnly(intIn(4, 6)),
    // Or cut from a subnet pool: subnetpool_id (or use_default_subnetpool) and prefixlen.
    cidr: postOnly(cidr),
    prefixlen: postOnly(intIn(0, 32)),
    gateway_ip: a(ipOrNull),
    allocation_pools: a(list(dict({ start: ip, end: ip }, ['start', 'end']))),
    dns_nameservers: a(list(ip)),
    host_routes: a(list(route)),
    enable_dhcp: a(bool),
    ipv6_ra_mode: postOnly(strOrNull),
    ipv6_address_mode: postOnly(strOrNull),
    subnetpool_id: postOnly(uuidOrNull),
    segment_id: a(uuidOrNull),
    service_types: a(list(str)),
    use_default_subnetpool: postOnly(bool),
  },
  port: {
    ...standard,
    network_id: postOnly(uuid, true),
    admin_state_up: a(bool),
    mac_address: a(mac),
    fixed_ips: a(list(dict({ subnet_id: uuid, ip_address: ip }))),
    device_id: a(str),
    device_owner: a(str),
    security_groups: a(list(uuid)),
    port_security_enabled: a(bool),
    allowed_address_pairs: a(list(dict({ ip_address: ipOrCidr, mac_address: mac }, ['ip_address']))),
    extra_dhcp_opts: a(anyList),
    'binding:host_id': a(str),
    'binding:profile': a(anyDict),
    'binding:vnic_type': a(oneOf(['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic'])),
    qos_policy_id: a(uuidOrNull),
    dns_name: a(str),
  },
  router: {
    ...standard,
    admin_state_up: a(bool),
    // `{}` clears the gateway, as `openstack router unset --external-gateway` sends it.
    external_gateway_info: a((v) => (v !== null && typeof v === 'object' && Object.keys(v).length === 0 ? null : gatewayInfo(v))),
    // Neutron converts None to an empty list (convert_none_to_empty_list).
    routes: a((v) => (v === null ? [] : list(route)(v))),
    distributed: a(bool),
    ha: a(bool),
    availability_zone_hints: postOnly(list(str)),
  },
  floatingip: {
    description: a(str),
    tenant_id: postOnly(str),
    project_id: postOnly(str),
    floating_network_id: postOnly(uuid, true),
    floating_ip_address: postOnly(ip),
    subnet_id: postOnly(uuidOrNull),
    port_id: a(uuidOrNull),
    fixed_ip_address: a(ipOrNull),
    qos_policy_id: a(uuidOrNull),
    dns_name: postOnly(str),
    dns_domain: postOnly(str),
  },
  subnetpool: {
    ...standard,
    prefixes: a(list(cidr), true, true, true),
    min_prefixlen: a(intIn(0, 32)),
    max_prefixlen: a(intIn(0, 32)),
    default_prefixlen: a(intIn(0, 32)),
    default_quota: a(intOrNull(0, 2 ** 31)),
    address_scope_id: a(uuidOrNull),
    shared: postOnly(bool),
    is_default: a(bool),
  },
  security_group: { ...standard, stateful: a(bool) },
  security_group_rule: {
    description: a(str),
    tenant_id: postOnly(str),
    project_id: postOnly(str),
    security_group_id: postOnly(uuid, true),
    direction: postOnly(oneOf(['ingress', 'egress']), true),
    ethertype: postOnly(oneOf(['IPv4', 'IPv6'])),
    protocol: postOnly((v) => (v === null ? null : typeof v === 'number' ? String(intIn(0, 255)(v)) : str(v))),
    port_range_min: postOnly(rulePort),
    port_range_max: postOnly(rulePort),
    remote_ip_prefix: postOnly((v) => (v === null ? null : ipOrCidr(v))),
    // Neutron does not validate it: a group that does not exist is a 404, whatever the id looks like.
    remote_group_id: postOnly(strOrNull),
    remote_address_group_id: postOnly(uuidOrNull),
  },
};

/**
 * The body of a create or update, checked against the resource's attributes as Neutron does.
 * `trusted` (the MidoNet plugin's front, which sends whole Neutron objects Neutron already checked)
 * keeps read-only fields such as id and status and ignores attributes it does not know.
 */
export function readAttributes(resource: string, body: unknown, op: 'post' | 'put', trusted: boolean): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`Body contains invalid data: ${resource} must be a dictionary`);
  const attrs = ATTRIBUTES[resource]!;
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const attr = attrs[k];
    if (!attr) {
      if (trusted) out[k] = v;
      else unknown.push(k);
      continue;
    }
    if (!trusted && !attr[op]) {
      throw badRequest(op === 'post' ? `Attribute '${k}' not allowed in POST` : `Cannot update read-only attribute ${k}`);
    }
    try {
      out[k] = attr.check(v);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      // Neutron's own objects carry nulls where its API takes none: the default stands.
      if (trusted && v === null) continue;
      throw badRequest(`Invalid input for ${k}. Reason: ${err.message}.`);
    }
  }
  if (unknown.length > 0) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  if (op === 'post') {
    for (const [k, attr] of Object.entries(attrs)) {
      if (attr.required && !(k in out)) throw badRequest(`Failed to parse request. Required attribute '${k}' not specified`);
    }
  }
  return out;
}
