import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ACTION_SIZE, KEY_SIZE, type BpfPrograms } from './datapath/bpf-programs.ts';
import type { Flow } from './flow-table.ts';
import type { PortLocator } from './packet-workflow.ts';
import { rewritesWithin } from './raw-header-cache.ts';

const exec = promisify(execFile);

const OUT_LOCAL = 1;
const OUT_VXLAN = 2;
const OUT_DROP = 3;
/** Outer IPv4, UDP and VXLAN headers: what the underlay carries beyond the inner frame. */
const ENCAP = 20 + 8 + 8;
/** Entries at most: the map holds more, but a flow fanning out to this many 5-tuples is a scan. */
const MAX_ENTRIES = 200_000;
const RESOLVE_EVERY_MS = 10_000;
const NAT_SADDR = 1;
const NAT_DADDR = 2;
const NAT_SPORT = 4;
const NAT_DPORT = 8;
/** The rewrites the kernel makes: MACs, TTL, and NAT's addresses and TCP/UDP ports. */
const KERNEL_REWRITES = new Set(['ethSrc', 'ethDst', 'ipTtl', 'ipSrc', 'ipDst', 'srcPort', 'dstPort']);
/** How soon a peer whose next hop was unknown is looked up again (the overlay's own packets resolve it). */
const RETRY_MS = 100;

/** How frames to one peer host leave: the underlay interface, its MAC and address, the next hop's MAC. */
interface Underlay {
  ifindex: number;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  mtu: number;
}

interface Entry {
  key: Buffer;
  flow: Flow;
  peer: string | null;
  ports: readonly number[];
}

function writeMac(b: Buffer, at: number, mac: number | string): void {
  const hex = typeof mac === 'number' ? mac.toString(16).padStart(12, '0') : mac.replace(/:/g, '');
  b.write(hex, at, 6, 'hex');
}

/**
 * The key of a frame as the kernel computes it (fp_key in fastpath.bpf.c): the raw-header cache's
 * fields, in wire order, behind the ingress interface's index. Only called for frames that cache
 * keyed (IPv4 without options or fragments; TCP, UDP or ICMP echo).
 */

function keyOf(ifindex: number, b: Uint8Array): Buffer {
  const k = Buffer.alloc(KEY_SIZE);
  k.writeUInt32LE(ifindex, 0);
  k.set(b.subarray(0, 12), 4);
  k.set(b.subarray(26, 34), 16);
  k[24] = b[15]!;
  k[25] = b[22]!;
  k[26] = b[23]!;
  k.set(b.subarray(34, 36), 28);
  k.set(b[23] === 1 ? b.subarray(38, 40) : b.subarray(36, 38), 30);
  return k;
}

/**
 * The flows the kernel executes for the agent. A drop, or a flow with one output to a local port or
 * a VXLAN peer rewriting MACs, TTL or NAT's addresses and ports at most, gets an entry per key; the
 * entry dies with its flow (invalidation by tag, expiry, eviction: the flow table says so), and
 * its last use, read back when the flow would idle out, keeps a flow the kernel still uses.
 */
export class KernelFlows {
  private readonly entries = new Map<string, Entry>();
  private readonly byFlow = new Map<Flow, Set<string>>();
  /** Peers' next hops as last resolved (null: not yet known), and when. */
  private readonly underlays = new Map<string, { u: Underlay | null; at: number }>();
  private readonly resolving = new Set<string>();
  private resolvedAt = 0;
  readonly stats = { installed: 0, removed: 0 };

  constructor(
    private readonly progs: BpfPrograms,
    private readonly ifindexOf: (portId: string) => number | null,
    private readonly where: PortLocator,
    private tunnelPort: number,
  ) {
    progs.setTunnelPort(tunnelPort);
  }

  /** A frame that took a flow through the raw-header cache: frames like it go through the kernel from now on. */
  offer(rawKey: string, inPort: string, bytes: Uint8Array, flow: Flow): void {
    if (this.entries.has(rawKey) || this.entries.size >= MAX_ENTRIES) return;
    if (flow.actions.outputs.length === 0) {
      const inIf = this.ifindexOf(inPort);
      if (inIf === null) return;
      const a = Buffer.alloc(ACTION_SIZE);
      a.writeUInt32LE(OUT_DROP, 0);
      this.put(rawKey, keyOf(inIf, bytes), a, flow, null, [inIf]);
      return;
    }
    const patch = rewritesWithin(flow, KERNEL_REWRITES);
    const inIf = this.ifindexOf(inPort);
    if (patch === undefined || inIf === null) return;
    // Ports are rewritten with TCP's and UDP's checksums only.
    const proto = bytes[23];
    if ((patch?.srcPort !== undefined || patch?.dstPort !== undefined) && proto !== 6 && proto !== 17) return;
    const out = flow.actions.outputs[0]!.portId;
    const a = Buffer.alloc(ACTION_SIZE);
    let peer: string | null = null;
    const ports = [inIf];
    if (this.where.isLocal(out)) {
      const outIf = this.ifindexOf(out);
      if (outIf === null) return;
      a.writeUInt32LE(OUT_LOCAL, 0);
      a.writeUInt32LE(outIf, 4);
      ports.push(outIf);
    } else {
      const r = this.where.remote(out);
      if (!r || r.encap !== 'vxlan') return;
      const u = this.underlay(r.peer);
      if (!u) return;
      peer = r.peer;
      a.writeUInt32LE(OUT_VXLAN, 0);
      a.writeUInt32LE(u.ifindex, 4);
      writeMac(a, 24, u.dstMac);
      writeMac(a, 30, u.srcMac);
      a.set(r.peer.split('.').map(Number), 40);
      a.set(u.srcIp.split('.').map(Number), 36);
      a.writeUInt32BE((r.vni << 8) >>> 0, 44);
      a.writeUInt16BE(this.tunnelPort, 50);
      a.writeUInt32LE(u.mtu - ENCAP, 52);
    }
    if (patch?.ethDst !== undefined) {
      a[8] = 1;
      writeMac(a, 12, patch.ethDst);
    }
    if (patch?.ethSrc !== undefined) {
      a[9] = 1;
      writeMac(a, 18, patch.ethSrc);
    }
    if (patch?.ipTtl !== undefined) {
      a[10] = 1;
      a[11] = patch.ipTtl;
    }
    if (patch?.ipSrc !== undefined) {
      a[56] |= NAT_SADDR;
      a.writeUInt32BE(patch.ipSrc >>> 0, 60);
    }
    if (patch?.ipDst !== undefined) {
      a[56] |= NAT_DADDR;
      a.writeUInt32BE(patch.ipDst >>> 0, 64);
    }
    if (patch?.srcPort !== undefined) {
      a[56] |= NAT_SPORT;
      a.writeUInt16BE(patch.srcPort, 68);
    }
    if (patch?.dstPort !== undefined) {
      a[56] |= NAT_DPORT;
      a.writeUInt16BE(patch.dstPort, 70);
    }
    this.put(rawKey, keyOf(inIf, bytes), a, flow, peer, ports);
  }

  private put(rawKey: string, key: Buffer, action: Buffer, flow: Flow, peer: string | null, ports: readonly number[]): void {
    if (!this.progs.putFlow(key, action)) return;
    this.entries.set(rawKey, { key, flow, peer, ports });
    let keys = this.byFlow.get(flow);
    if (!keys) this.byFlow.set(flow, (keys = new Set()));
    keys.add(rawKey);
    this.stats.installed++;
  }

  /** A flow left the flow table: its frames go back to the agent from the next one on. */
  removed(flow: Flow): void {
    const keys = this.byFlow.get(flow);
    if (!keys) return;
    this.byFlow.delete(flow);
    for (const k of keys) this.drop(k);
  }

  private drop(rawKey: string): void {
    const e = this.entries.get(rawKey);
    if (!e) return;
    this.entries.delete(rawKey);
    this.byFlow.get(e.flow)?.delete(rawKey);
    this.progs.deleteFlow(e.key);
    this.stats.removed++;
  }

  /** Removes every entry that is true of `test` (a port gone, a peer moved). */
  private dropWhere(test: (e: Entry) => boolean): void {
    for (const [k, e] of [...this.entries]) if (test(e)) this.drop(k);
  }

  /** Entries into or out of this interface go: its index may be reused by another. */
  portGone(ifindex: number): void {
    this.dropWhere((e) => e.ports.includes(ifindex));
  }

  /**
   * When the kernel last forwarded a frame of the flow (ms, the wall clock), or null: asked only
   * of flows about to idle out, so its cost follows expiring flows, not the flows installed.
   */
  lastUsed(flow: Flow): number | null {
    const keys = this.byFlow.get(flow);
    if (!keys) return null;
    let last: bigint | null = null;
    for (const k of keys) {
      const e = this.entries.get(k);
      const c = e ? this.progs.readFlow(e.key) : null;
      if (c && c.packets > 0 && (last === null || c.lastNs > last)) last = c.lastNs;
    }
    // bpf_ktime_get_ns and process.hrtime both read CLOCK_MONOTONIC.
    return last === null ? null : Date.now() - Number(process.hrtime.bigint() - last) / 1e6;
  }

  /** Periodic work: peers' next hops are looked up again now and then (a moved neighbour). */
  tick(now: number): void {
    if (now - this.resolvedAt < RESOLVE_EVERY_MS) return;
    this.resolvedAt = now;
    for (const peer of this.underlays.keys()) this.resolve(peer);
  }

  setTunnelPort(port: number): void {
    this.tunnelPort = port;
    this.progs.setTunnelPort(port);
    this.dropWhere((e) => e.peer !== null);
  }

  /** The local ports' tunnel keys, and the hosts allowed to send to them (decapsulated in the kernel). */
  setTunnelTargets(byKey: Map<number, number>, peers: ReadonlySet<string>): void {
    this.progs.setTunnelPorts(byKey);
    this.progs.setPeers(peers);
    for (const p of peers) if (!this.underlays.has(p)) this.resolve(p);
  }

  private underlay(peer: string): Underlay | null {
    const known = this.underlays.get(peer);
    if (!known || (known.u === null && Date.now() - known.at >= RETRY_MS)) this.resolve(peer);
    return known?.u ?? null;
  }

  /** Finds how to reach a peer without blocking the datapath; entries to it go if that changed. */
  private resolve(peer: string): void {
    if (this.resolving.has(peer)) return;
    this.resolving.add(peer);
    void underlayTo(peer)
      .catch(() => null)
      .then((u) => {
        const was = this.underlays.get(peer)?.u;
        this.underlays.set(peer, { u, at: Date.now() });
        if (was && JSON.stringify(was) !== JSON.stringify(u)) this.dropWhere((e) => e.peer === peer);
      })
      .finally(() => this.resolving.delete(peer));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every entry goes (the fast path is being turned off or closed). */
  clear(): void {
    this.dropWhere(() => true);
  }
}

/**
 * The route to a peer's underlay address and the next hop's MAC, as the kernel knows them; null
 * while the next hop is unresolved (the userspace path's own packets make the kernel ask).
 */
async function underlayTo(peer: string): Promise<Underlay | null> {
  const [route] = JSON.parse((await exec('ip', ['-json', 'route', 'get', peer])).stdout) as { dev: string; gateway?: string; prefsrc?: string }[];
  if (!route?.prefsrc) return null;
  const via = route.gateway ?? peer;
  const [neigh] = JSON.parse((await exec('ip', ['-json', 'neigh', 'show', 'to', via, 'dev', route.dev])).stdout) as { lladdr?: string; state?: string[] }[];
  if (!neigh?.lladdr || neigh.state?.includes('FAILED')) return null;
  const [link] = JSON.parse((await exec('ip', ['-json', 'link', 'show', 'dev', route.dev])).stdout) as { ifindex: number; address: string; mtu: number }[];
  if (!link) return null;
  return { ifindex: link.ifindex, srcMac: link.address, dstMac: neigh.lladdr, srcIp: route.prefsrc, mtu: link.mtu };
}
