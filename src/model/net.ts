/** Address formats as MidoNet validates them. */
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const isIpv4 = (s: string): boolean => IPV4.test(s);
export const isMac = (s: string): boolean => MAC.test(s);
export const isUuid = (s: string): boolean => UUID.test(s);

/** "10.0.0.1/24" -> address and prefix length, or null if malformed. */
export function parseCidr(s: string): { address: string; length: number } | null {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIpv4(m[1]!) || Number(m[2]) > 32) return null;
  return { address: m[1]!, length: Number(m[2]) };
}

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The netmask of a prefix length as an unsigned integer (/24 -> 0xffffff00). */
export const maskOf = (length: number): number => (length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0);

/** The network address of ip/length, e.g. 10.0.0.1/24 -> 10.0.0.0. */
export function networkOf(ip: string, length: number): string {
  return intToIp((ipToInt(ip) & maskOf(length)) >>> 0);
}

/** Whether ip is on the subnet of a port address given as address/length ("10.0.0.1/24"). */
export function onSubnetOf(portCidr: string, ip: string): boolean {
  const c = parseCidr(portCidr);
  if (!c || !isIpv4(ip)) return false;
  return networkOf(ip, c.length) === networkOf(c.address, c.length);
}

/** A random locally administered unicast MAC, as MidoNet gives router ports without one. */
export function randomMac(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
