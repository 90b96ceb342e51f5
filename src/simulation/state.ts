/**
 * The mutable tables a simulation reads and writes besides the topology: MAC learning per
 * bridge and VLAN, the routers' ARP caches, connection tracking and NAT. Expiry is by the clock
 * the caller passes in (`now`, ms), so the simulation itself stays pure and testable.
 */

export interface SimConfig {
  /** agent.bridge.mac_port_mapping_expire */
  macExpiryMs: number;
  /** agent.arptable.* */
  arpRetryMs: number;
  arpTimeoutMs: number;
  arpStaleMs: number;
  arpExpiryMs: number;
  /** Flow-state keys (conntrack, NAT) live this long after last use. */
  stateKeyTtlMs: number;
  /** agent.midolman.dhcp_mtu */
  dhcpMtu: number;
  /** The underlay's MTU less the tunnel overhead (tunnel-mtu.ts), once the agent knows it: DHCP offers no more. */
  tunnelMtu: number | null;
  /** DHCP lease time offered, seconds. */
  dhcpLeaseSeconds: number;
  /** agent.midolman.enable_bridge_arp: bridges answer ARP from their ARP tables. */
  bridgeArp: boolean;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  macExpiryMs: 15_000,
  arpRetryMs: 10_000,
  arpTimeoutMs: 60_000,
  arpStaleMs: 60_000,
  arpExpiryMs: 90_000,
  stateKeyTtlMs: 60_000,
  dhcpMtu: 1500,
  tunnelMtu: null,
  dhcpLeaseSeconds: 86_400,
  bridgeArp: true,
};

interface Expiring {
  expires: number;
}

export class MacLearningTables {
  private readonly tables = new Map<string, Map<number, Map<number, { port: string } & Expiring>>>();

  private vlanTable(bridge: string, vlan: number) {
    let b = this.tables.get(bridge);
    if (!b) this.tables.set(bridge, (b = new Map()));
    let v = b.get(vlan);
    if (!v) b.set(vlan, (v = new Map()));
    return v;
  }

  lookup(bridge: string, vlan: number, mac: number, now: number): string | null {
    const e = this.tables.get(bridge)?.get(vlan)?.get(mac);
    return e && e.expires > now ? e.port : null;
  }

  /** 'same' when only refreshed, 'new' when first seen (or expired), 'moved' when on another port. */
  learn(bridge: string, vlan: number, mac: number, port: string, now: number, until: number): 'same' | 'new' | 'moved' {
    const t = this.vlanTable(bridge, vlan);
    const e = t.get(mac);
    if (e && e.port === port && e.expires > now) {
      e.expires = until;
      return 'same';
    }
    t.set(mac, { port, expires: until });
    return e && e.expires > now ? 'moved' : 'new';
  }

  entries(bridge: string, now: number): { vlan: number; mac: number; port: string }[] {
    const out = [];
    for (const [vlan, t] of this.tables.get(bridge) ?? []) for (const [mac, e] of t) if (e.expires > now) out.push({ vlan, mac, port: e.port });
    return out;
  }
}

interface ArpEntry extends Expiring {
  mac: number;
  stale: number;
}

/** Table changes the agent reacts to: flows to invalidate, parked packets to release. */
export interface StateEvents {
  macLearned?(bridge: string, vlan: number, mac: number, port: string): void;
  arpLearned?(router: string, ip: number): void;
}

export class ArpCaches {
  private readonly caches = new Map<string, Map<number, ArpEntry>>();
  private readonly pending = new Map<string, { nextRetry: number; giveUp: number }>();

  constructor(
    private readonly cfg: SimConfig,
    private readonly events: StateEvents,
  ) {}

  lookup(router: string, ip: number, now: number): number | null {
    const e = this.caches.get(router)?.get(ip);
    return e && e.expires > now ? e.mac : null;
  }

  learn(router: string, ip: number, mac: number, now: number): void {
    let c = this.caches.get(router);
    if (!c) this.caches.set(router, (c = new Map()));
    const before = c.get(ip);
    c.set(ip, { mac, stale: now + this.cfg.arpStaleMs, expires: now + this.cfg.arpExpiryMs });
    this.pending.delete(`${router}|${ip}`);
    if (!before || before.mac !== mac || before.expires <= now) this.events.arpLearned?.(router, ip);
  }

  /**
   * Whether to send an ARP request for ip now: yes the first time and every retry interval,
   * no once one is outstanding, until the timeout gives up (then "unreachable").
   */
  shouldRequest(router: string, ip: number, now: number): 'send' | 'wait' | 'give-up' {
    const k = `${router}|${ip}`;
    const p = this.pending.get(k);
    if (!p) {
      this.pending.set(k, { nextRetry: now + this.cfg.arpRetryMs, giveUp: now + this.cfg.arpTimeoutMs });
      return 'send';
    }
    if (now >= p.giveUp) {
      this.pending.delete(k);
      return 'give-up';
    }
    if (now >= p.nextRetry) {
      p.nextRetry = now + this.cfg.arpRetryMs;
      return 'send';
    }
    return 'wait';
  }
}

/** NAT bindings and connection-tracking keys, each alive until `expires`, refreshed on use. */
export class FlowStateTable<V> {
  private readonly map = new Map<string, V & Expiring>();

  get(key: string, now: number): (V & Expiring) | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.expires <= now) return null;
    return e;
  }

  /** Stores `value` itself (no copy): it is hot-path data and callers hand over fresh objects. */
  set(key: string, value: V, expires: number): void {
    const e = value as V & Expiring;
    e.expires = expires;
    this.map.set(key, e);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Removes expired entries, handing each to `onExpire`. */
  sweep(now: number, onExpire?: (key: string, v: V) => void): void {
    for (const [k, v] of this.map) {
      if (v.expires > now) continue;
      this.map.delete(k);
      onExpire?.(k, v);
    }
  }
}

export interface NatBinding {
  ip: number;
  port: number;
}

/** Who hands out blocks of 64 NAT ports per (device, ip); cluster-wide in the agent, local here. */
export interface NatBlockAllocator {
  /** true if this process now owns the block. */
  lease(device: string, ip: number, block: number): boolean;
  release(device: string, ip: number, block: number): void;
}

export class LocalBlockAllocator implements NatBlockAllocator {
  private readonly taken = new Set<string>();
  lease(device: string, ip: number, block: number): boolean {
    const k = `${device}|${ip}|${block}`;
    if (this.taken.has(k)) return false;
    this.taken.add(k);
    return true;
  }
  release(device: string, ip: number, block: number): void {
    this.taken.delete(`${device}|${ip}|${block}`);
  }
}

export const NAT_BLOCK_SIZE = 64;

interface IpLeases {
  /** block number -> bitmask words of used ports (64 ports = two 32-bit words). */
  blocks: Map<number, Uint32Array>;
  /** Owned blocks that still have a free port. */
  withRoom: Set<number>;
  nextBlock: number;
}

/**
 * Dynamic SNAT port leasing: ports come from blocks of 64 leased per (device, ip), and a port is
 * handed to one flow at a time until its binding expires, so no (ip, port) ever serves two flows.
 */
export class NatLeaser {
  private readonly devices = new Map<string, Map<number, IpLeases>>();

  constructor(private readonly blocks: NatBlockAllocator = new LocalBlockAllocator()) {}

  private leases(device: string, ip: number): IpLeases {
    let d = this.devices.get(device);
    if (!d) this.devices.set(device, (d = new Map()));
    let l = d.get(ip);
    if (!l) d.set(ip, (l = { blocks: new Map(), withRoom: new Set(), nextBlock: -1 }));
    return l;
  }

  private take(l: IpLeases, block: number, portFrom: number, portTo: number): number | null {
    const bits = l.blocks.get(block)!;
    const base = block * NAT_BLOCK_SIZE;
    const lo = Math.max(portFrom, base) - base;
    const hi = Math.min(portTo, base + NAT_BLOCK_SIZE - 1) - base;
    for (let word = lo >>> 5; word <= hi >>> 5; word++) {
      // Free ports of this word within [lo, hi], lowest first.
      let free = ~bits[word]! >>> 0;
      const first = word * 32;
      if (lo > first) free &= (0xffffffff << (lo - first)) >>> 0;
      if (hi < first + 31) free &= 0xffffffff >>> (31 - (hi - first));
      if (free === 0) continue;
      const i = 31 - Math.clz32(free & -free);
      bits[word]! |= 1 << i;
      if (bits[0] === 0xffffffff && bits[1] === 0xffffffff) l.withRoom.delete(block);
      return base + first + i;
    }
    return null;
  }

  /** A free (ip, port) in the ranges, or null when every port of every address is taken. */
  allocate(device: string, ipFrom: number, ipTo: number, portFrom: number, portTo: number, hint: number): NatBinding | null {
    const span = ipTo - ipFrom + 1;
    const firstBlock = Math.floor(portFrom / NAT_BLOCK_SIZE);
    const lastBlock = Math.floor(portTo / NAT_BLOCK_SIZE);
    for (let n = 0; n < span; n++) {
      const ip = (ipFrom + ((hint + n) % span)) >>> 0;
      const l = this.leases(device, ip);
      for (const b of l.withRoom) {
        if (b < firstBlock || b > lastBlock) continue;
        const p = this.take(l, b, portFrom, portTo);
        if (p !== null) return { ip, port: p };
      }
      // Lease further blocks in the range, round-robin from where we stopped.
      const count = lastBlock - firstBlock + 1;
      const start = l.nextBlock < firstBlock || l.nextBlock > lastBlock ? firstBlock : l.nextBlock;
      for (let k = 0; k < count; k++) {
        const b = firstBlock + ((start - firstBlock + k) % count);
        if (l.blocks.has(b) || !this.blocks.lease(device, ip, b)) continue;
        l.blocks.set(b, new Uint32Array(2));
        l.withRoom.add(b);
        l.nextBlock = b + 1;
        const p = this.take(l, b, portFrom, portTo);
        if (p !== null) return { ip, port: p };
      }
    }
    return null;
  }

  release(device: string, ip: number, port: number): void {
    const l = this.devices.get(device)?.get(ip);
    const block = Math.floor(port / NAT_BLOCK_SIZE);
    const bits = l?.blocks.get(block);
    if (!l || !bits) return;
    const i = port - block * NAT_BLOCK_SIZE;
    bits[i >>> 5]! &= ~(1 << (i & 31));
    if (bits[0] === 0 && bits[1] === 0) {
      // A block nobody uses goes back, for any host to lease.
      l.blocks.delete(block);
      l.withRoom.delete(block);
      this.blocks.release(device, ip, block);
    } else l.withRoom.add(block);
  }
}

/** Everything mutable a simulation touches, plus its counters. */
export class SimState {
  readonly macs = new MacLearningTables();
  readonly arp: ArpCaches;
  readonly conntrack = new FlowStateTable<Record<string, never>>();
  readonly nat = new FlowStateTable<NatBinding & { device?: string; leased?: boolean }>();
  readonly leaser: NatLeaser;
  readonly counters = new Map<string, number>();
  readonly events: StateEvents = {};
  /** Short local tokens for device ids, so flow-state keys stay short to build and hash. */
  private readonly deviceTokens = new Map<string, string>();
  private readonly tokenDevices: string[] = [];

  constructor(
    readonly config: SimConfig = DEFAULT_SIM_CONFIG,
    blocks?: NatBlockAllocator,
  ) {
    this.arp = new ArpCaches(config, this.events);
    this.leaser = new NatLeaser(blocks);
  }

  deviceToken(id: string): string {
    let t = this.deviceTokens.get(id);
    if (t === undefined) {
      t = this.tokenDevices.length.toString(36);
      this.deviceTokens.set(id, t);
      this.tokenDevices.push(id);
    }
    return t;
  }

  /** The device id behind a token (for replicating keys to hosts with their own tokens). */
  deviceOfToken(token: string): string | undefined {
    return this.tokenDevices[parseInt(token, 36)];
  }

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  /** Drops expired flow state and gives leased NAT ports back. */
  sweep(now: number): void {
    this.conntrack.sweep(now);
    this.nat.sweep(now, (_k, b) => {
      if (b.leased && b.device) this.leaser.release(b.device, b.ip, b.port);
    });
  }
}
