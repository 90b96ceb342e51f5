import { randomBytes, randomInt } from 'node:crypto';
import { intToIp, ipToInt, isIpv4, parseCidr, maskOf } from '../../model/net.ts';
import type { AllocationPool, NSubnet } from '../../model/neutron.ts';

/** A parsed IPv4 subnet: network address and broadcast address as integers. */
export interface Range {
  first: number;
  last: number;
  length: number;
}

export function rangeOf(cidr: string): Range | null {
  const c = parseCidr(cidr);
  if (!c) return null;
  const mask = maskOf(c.length);
  const first = (ipToInt(c.address) & mask) >>> 0;
  if (first !== ipToInt(c.address)) return null;
  return { first, last: (first | (~mask >>> 0)) >>> 0, length: c.length };
}

export const contains = (r: Range, ip: string): boolean => {
  if (!isIpv4(ip)) return false;
  const n = ipToInt(ip);
  return n >= r.first && n <= r.last;
};

export const overlaps = (a: Range, b: Range): boolean => a.first <= b.last && b.first <= a.last;

/** Hosts of the subnet: all but the network and broadcast addresses (all of a /31 or /32). */
function hosts(r: Range): [number, number] {
  return r.length >= 31 ? [r.first, r.last] : [r.first + 1, r.last - 1];
}

/** Neutron's default gateway: the first host address. */
export const defaultGateway = (r: Range): string => intToIp(hosts(r)[0]);

/** Neutron's default pools: every host address but the gateway's. */
export function defaultPools(r: Range, gateway: string | null): AllocationPool[] {
  const [lo, hi] = hosts(r);
  const gw = gateway && contains(r, gateway) ? ipToInt(gateway) : -1;
  const pools: AllocationPool[] = [];
  if (gw > lo) pools.push({ start: intToIp(lo), end: intToIp(Math.min(gw - 1, hi)) });
  if (gw < hi) pools.push({ start: intToIp(Math.max(gw + 1, lo)), end: intToIp(hi) });
  return pools;
}

/** The first address of the subnet's pools that is not in `used`, or null when none is left. */
export function allocate(s: NSubnet, used: ReadonlySet<string>): string | null {
  for (const p of s.allocation_pools) {
    for (let n = ipToInt(p.start); n <= ipToInt(p.end); n++) {
      const ip = intToIp(n);
      if (!used.has(ip) && ip !== s.gateway_ip) return ip;
    }
  }
  return null;
}

/** How many addresses the subnet's pools hold. */
export const poolSize = (s: NSubnet): number => s.allocation_pools.reduce((n, p) => n + Math.max(0, ipToInt(p.end) - ipToInt(p.start) + 1), 0);

/** An address of the subnet's pools picked at random (not the gateway's), or null for empty pools. */
export function randomAddress(s: NSubnet): string | null {
  let k = randomInt(0, Math.max(1, poolSize(s)));
  for (const p of s.allocation_pools) {
    const n = ipToInt(p.end) - ipToInt(p.start) + 1;
    if (n <= 0) continue;
    if (k < n) {
      const ip = intToIp(ipToInt(p.start) + k);
      return ip === s.gateway_ip ? null : ip;
    }
    k -= n;
  }
  return null;
}

/** A MAC in Neutron's default base (fa:16:3e), random below it. */
export function neutronMac(): string {
  return ['fa', '16', '3e', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
