/**
 * Subnet pools (subnet_allocation): address space a project's subnets are cut from. They live in
 * the NSDB only; a subnet cut from one is an ordinary subnet to MidoNet.
 */
import { intToIp, ipToInt, maskOf, parseCidr } from '../../../model/net.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { NT, type NSubnet, type NSubnetPool } from '../../../model/neutron.ts';
import { badRequest, conflict, invalidInput } from '../errors.ts';
import { overlaps, rangeOf, type Range } from '../ipam.ts';
import { given, load, merged, standard, type Handler, type Op } from './common.ts';

/** A prefix as its network address (Neutron keeps 10.0.0.5/24 as 10.0.0.0/24). */
function normal(prefix: string): Range {
  const c = parseCidr(prefix)!;
  return rangeOf(`${intToIp((ipToInt(c.address) & maskOf(c.length)) >>> 0)}/${c.length}`)!;
}
const cidrOf = (r: Range): string => `${intToIp(r.first)}/${r.length}`;

/** The pool's prefixes merged where they touch or overlap, in as few CIDRs as cover them (Neutron's cidr_merge). */
function compact(prefixes: string[]): string[] {
  const spans = prefixes.map(normal).sort((a, b) => a.first - b.first);
  const merged: [number, number][] = [];
  for (const r of spans) {
    const last = merged.at(-1);
    if (last && r.first <= last[1] + 1) last[1] = Math.max(last[1], r.last);
    else merged.push([r.first, r.last]);
  }
  const out: string[] = [];
  for (let [first, last] of merged) {
    while (first <= last) {
      // The largest block that starts here (aligned) and does not run past the span.
      let size = first === 0 ? 2 ** 32 : (first & -first) >>> 0;
      while (size > last - first + 1) size /= 2;
      out.push(`${intToIp(first)}/${32 - Math.log2(size)}`);
      first += size;
    }
  }
  return out;
}

function checkBounds(p: NSubnetPool): void {
  if (!(p.min_prefixlen <= p.default_prefixlen && p.default_prefixlen <= p.max_prefixlen)) {
    throw badRequest(`Illegal prefix bounds: default_prefixlen=${p.default_prefixlen}, min_prefixlen=${p.min_prefixlen}, max_prefixlen=${p.max_prefixlen}.`);
  }
}

/** Another pool already default for this IP version: 409, as Neutron's one-default rule. */
async function checkDefault(op: Op, p: NSubnetPool): Promise<void> {
  if (!p.is_default) return;
  const others = await op.t.tx.lookup(IX.defaultSubnetPool, indexKey(String(p.ip_version)));
  if (others.some((id) => id !== p.id)) throw invalidInput(`A default subnetpool for this IP family has already been set. Only one default may exist per IP family`);
}

export const subnetPools: Handler<NSubnetPool> = {
  resource: 'subnetpool',
  type: NT.SubnetPool,
  async create(op, input) {
    const min = given(input, 'min_prefixlen', 8);
    const p: NSubnetPool = {
      ...standard(op, input),
      name: given(input, 'name', ''),
      prefixes: compact(input.prefixes as string[]),
      ip_version: 4,
      min_prefixlen: min,
      max_prefixlen: given(input, 'max_prefixlen', 32),
      default_prefixlen: given(input, 'default_prefixlen', min),
      default_quota: given(input, 'default_quota', null),
      address_scope_id: given(input, 'address_scope_id', null),
      shared: given(input, 'shared', false),
      is_default: given(input, 'is_default', false),
    };
    if (p.address_scope_id !== null) throw NOT_SCOPED;
    checkBounds(p);
    await checkDefault(op, p);
    await op.t.tx.create(NT.SubnetPool, p);
    return p;
  },
  async update(op, old, input) {
    const p = merged(op, old, input);
    if ('prefixes' in input) {
      p.prefixes = compact(input.prefixes as string[]);
      // Address space is only ever added: subnets may be cut from any of the old prefixes.
      const kept = p.prefixes.map(normal);
      if (!old.prefixes.map(normal).every((o) => kept.some((k) => k.first <= o.first && o.last <= k.last))) {
        throw badRequest(`Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes`);
      }
    }
    if (p.address_scope_id !== null) throw NOT_SCOPED;
    checkBounds(p);
    await checkDefault(op, p);
    await op.t.tx.update(NT.SubnetPool, p);
    return p;
  },
  async remove(op, p) {
    if ((await op.t.tx.lookup(IX.subnetsByPool, indexKey(p.id))).length > 0) {
      throw conflict('SubnetPoolInUse', `Unable to complete operation on subnet pool ${p.id}. Subnets are allocated from it.`);
    }
    await op.t.tx.delete(NT.SubnetPool, p.id);
  },
};

const NOT_SCOPED = badRequest('Address scopes are not supported by this server');

/** The pool a new subnet asks for: by id, or the default one when use_default_subnetpool says so. */
export async function requestedPool(op: Op, input: Record<string, unknown>): Promise<NSubnetPool | null> {
  if (typeof input.subnetpool_id === 'string') return load<NSubnetPool>(op, NT.SubnetPool, 'subnetpool', input.subnetpool_id);
  if (input.use_default_subnetpool !== true) return null;
  const [id] = await op.t.tx.lookup(IX.defaultSubnetPool, indexKey('4'));
  if (!id) throw badRequest('No default subnetpool found for IPv4');
  return load<NSubnetPool>(op, NT.SubnetPool, 'subnetpool', id);
}

/**
 * The CIDR a subnet gets from its pool: the one asked for, if it lies in the pool and no other
 * subnet of the pool holds any of it; else the first free prefix of `prefixlen` (the pool's
 * default length when not given).
 */
export async function allocateFromPool(op: Op, pool: NSubnetPool, cidr: string | undefined, prefixlen: number | undefined): Promise<string> {
  const taken = (await op.t.tx.find<NSubnet>(IX.subnetsByPool, indexKey(pool.id))).map((s) => rangeOf(s.cidr)!);
  const prefixes = pool.prefixes.map(normal);
  const length = cidr !== undefined ? Number(cidr.split('/')[1]) : (prefixlen ?? pool.default_prefixlen);
  if (length < pool.min_prefixlen || length > pool.max_prefixlen) {
    throw badRequest(`Unable to allocate subnet with prefix length ${length}, minimum allowed prefix is ${pool.min_prefixlen}, maximum allowed prefix is ${pool.max_prefixlen}.`);
  }
  if (cidr !== undefined) {
    const want = rangeOf(cidr);
    if (!want) throw badRequest(`Invalid input for cidr. Reason: '${cidr}' is not a network address; use its network address instead.`);
    if (!prefixes.some((p) => p.first <= want.first && want.last <= p.last)) throw badRequest(`Cidr ${cidr} is not within the prefixes of subnet pool ${pool.id}.`);
    if (taken.some((t) => overlaps(t, want))) throw conflict('SubnetAllocationError', `Failed to allocate subnet: Cidr ${cidr} overlaps a subnet of subnet pool ${pool.id}.`);
    return cidr;
  }
  const size = 2 ** (32 - length);
  for (const p of prefixes) {
    if (p.length > length) continue;
    for (let first = p.first; first + size - 1 <= p.last; ) {
      const r = { first, last: first + size - 1, length };
      const clash = taken.find((t) => overlaps(t, r));
      if (!clash) return cidrOf(r);
      // Past the subnet in the way, to the next boundary of this size.
      first = Math.ceil((clash.last + 1) / size) * size;
    }
  }
  throw conflict('SubnetAllocationError', 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size ' + `/${length}.`);
}
