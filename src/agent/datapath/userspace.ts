import { createSocket, type Socket } from 'node:dgram';
import type { BpfPrograms } from './bpf-programs.ts';
import { GreSocket } from './gre.ts';
import { PacketSocket } from './packet-socket.ts';
import { sys } from './libc.ts';

/** How long to keep polling sockets in the main thread after the last frame, and at most (ms). */
const SPIN_MS = 0.2;
const MAX_SPIN_MS = 5;
import { Poller } from './poller.ts';
import type { Datapath, DatapathHandlers } from './datapath.ts';

/**
 * The userspace datapath: one AF_PACKET socket per bound interface, read in batches when the
 * poller says they are ready, written in batches; and one UDP socket for the VXLAN overlay.
 */
export class UserspaceDatapath implements Datapath {
  private readonly byPort = new Map<string, PacketSocket>();
  private readonly byFd = new Map<number, { portId: string; sock: PacketSocket }>();
  private readonly queued = new Map<string, Uint8Array[]>();
  private readonly poller: Poller;
  private udp: Socket | null = null;
  private gre: GreSocket | null = null;
  readonly counters = { rxFrames: 0, txFrames: 0, txDropped: 0, tunnelRx: 0, tunnelTx: 0, tunnelMalformed: 0, rxMalformed: 0, fastPathAttachFailed: 0 };
  /** The kernel fast path, when loaded: its programs hang on every port and on the underlay. */
  private fast: BpfPrograms | null = null;
  private readonly underlays = new Set<number>();
  /** Told when a port's interface leaves the datapath (kernel entries naming it must go). */
  portGone: (ifindex: number) => void = () => undefined;

  constructor(private readonly h: DatapathHandlers) {
    this.poller = new Poller((ready) => {
      // Under load, keep reading all ports until they stay quiet for SPIN_MS before handing back
      // to the poller: each handover costs a message between threads, far more than an empty
      // non-blocking read. Never longer than MAX_SPIN_MS, so the event loop still runs.
      const start = performance.now();
      let quietSince = start;
      let fds = ready;
      for (;;) {
        const now = performance.now();
        if (this.drain(fds) > 0) quietSince = now;
        else if (now - quietSince >= SPIN_MS) break;
        if (now - start >= MAX_SPIN_MS) break;
        fds = this.allFds();
      }
      h.batchDone();
      this.flush();
    });
  }

  /** Reads what the given fds have now (a few batches each); returns how many frames. */
  private drain(fds: readonly number[]): number {
    const h = this.h;
    let total = 0;
    for (const fd of fds) {
      if (fd === this.gre?.fd) {
        this.counters.tunnelRx += this.gre.receive((key, inner, from) => h.tunnel(key, inner, from), () => this.counters.tunnelMalformed++);
        continue;
      }
      const p = this.byFd.get(fd);
      if (!p) continue;
      // Drain what is there now, a few batches at most, so one busy port cannot starve the rest.
      // Output is flushed after each batch: queued frames may still be views of its buffers.
      for (let i = 0; i < 8; i++) {
        const n = p.sock.receive((f) => h.frame(p.portId, f), () => this.counters.rxMalformed++);
        this.counters.rxFrames += n;
        total += n;
        if (n === 0) break;
        this.flush();
      }
    }
    return total;
  }

  async openTunnel(port: number, address = '0.0.0.0'): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => {
      if (msg.length < 8 + 2 || (msg[0]! & 0x08) === 0) {
        this.counters.tunnelMalformed++;
        return;
      }
      this.counters.tunnelRx++;
      this.h.tunnel(msg.readUInt32BE(4) >>> 8, msg.subarray(8), rinfo.address);
      this.h.batchDone();
      this.flush();
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    // Moving to another port (mn-conf changed it): the new socket is up before the old one goes.
    this.udp?.close();
    this.udp = udp;
  }

  /** GRE tunnel zones need a raw socket (protocol 47); returns false where the kernel refuses it. */
  openGre(): boolean {
    try {
      this.gre = GreSocket.open();
      this.watchAll();
      return true;
    } catch {
      return false;
    }
  }

  private allFds(): number[] {
    return [...this.byFd.keys(), ...(this.gre ? [this.gre.fd] : [])];
  }

  private watchAll(): void {
    this.poller.watch(this.allFds());
  }

  hasPort(portId: string): boolean {
    return this.byPort.has(portId);
  }

  ports(): string[] {
    return [...this.byPort.keys()];
  }

  addPort(portId: string, ifname: string): void {
    if (this.byPort.has(portId)) return;
    const sock = PacketSocket.open(ifname);
    this.byPort.set(portId, sock);
    this.byFd.set(sock.fd, { portId, sock });
    this.watchAll();
    if (this.fast) this.attachFast(this.fast, sock);
  }

  removePort(portId: string): void {
    const sock = this.byPort.get(portId);
    if (!sock) return;
    this.byPort.delete(portId);
    this.byFd.delete(sock.fd);
    this.watchAll();
    this.fast?.detachPort(sock.ifindex, sock.fd);
    this.portGone(sock.ifindex);
    sock.close();
  }

  /** The interface index of a bound port, for kernel flows. */
  ifindexOf(portId: string): number | null {
    return this.byPort.get(portId)?.ifindex ?? null;
  }

  /** A port that cannot take the programs keeps working through userspace alone. */
  private attachFast(fast: BpfPrograms, sock: PacketSocket): void {
    try {
      fast.attachPort(sock.ifindex, sock.fd);
    } catch {
      fast.detachPort(sock.ifindex, sock.fd);
      this.counters.fastPathAttachFailed++;
    }
  }

  /** Hands every port (and the underlay) to the kernel fast path, or takes them back (null). */
  useFastPath(fast: BpfPrograms | null): void {
    if (fast === this.fast) return;
    if (this.fast) {
      for (const sock of this.byPort.values()) this.fast.detachPort(sock.ifindex, sock.fd);
      for (const i of this.underlays) this.fast.detach(i);
      this.underlays.clear();
    }
    this.fast = fast;
    if (fast) for (const sock of this.byPort.values()) this.attachFast(fast, sock);
  }

  /** The interfaces carrying this host's VXLAN: tunnelled frames for local ports are decapsulated there. */
  setUnderlays(ifnames: readonly string[]): void {
    const fast = this.fast;
    if (!fast) return;
    const now = new Set(ifnames.map((n) => sys.ifNameToIndex(n) as number).filter((i) => i > 0));
    for (const i of this.underlays) if (!now.has(i)) fast.detach(i);
    for (const i of now) {
      if (this.underlays.has(i)) continue;
      try {
        fast.attachUnderlay(i);
      } catch {
        this.counters.fastPathAttachFailed++;
        now.delete(i);
      }
    }
    this.underlays.clear();
    for (const i of now) this.underlays.add(i);
  }

  /**
   * Queues a frame for a local port, without copying: it goes out when the current receive batch
   * is flushed, before the buffer it may live in is reused.
   */
  output(portId: string, frame: Uint8Array): boolean {
    if (!this.byPort.has(portId)) return false;
    let q = this.queued.get(portId);
    if (!q) this.queued.set(portId, (q = []));
    q.push(frame);
    return true;
  }

  /** Sends a frame to a peer host, the egress port's tunnel key as VNI (VXLAN) or key (GRE). */
  tunnel(peer: string, port: number, vni: number, frame: Uint8Array, encap: 'vxlan' | 'gre' = 'vxlan'): void {
    if (encap === 'gre') {
      if (this.gre?.send(peer, vni, frame)) this.counters.tunnelTx++;
      return;
    }
    if (!this.udp) return;
    const hdr = Buffer.alloc(8);
    hdr[0] = 0x08;
    hdr.writeUInt32BE((vni << 8) >>> 0, 4);
    this.udp.send([hdr, frame], port, peer);
    this.counters.tunnelTx++;
  }

  flush(): void {
    for (const [portId, frames] of this.queued) {
      const sock = this.byPort.get(portId);
      const sent = sock ? sock.send(frames) : 0;
      this.counters.txFrames += sent;
      this.counters.txDropped += frames.length - sent;
    }
    this.queued.clear();
  }

  async close(): Promise<void> {
    this.useFastPath(null);
    for (const id of [...this.byPort.keys()]) this.removePort(id);
    this.udp?.close();
    this.gre?.close();
    await this.poller.close();
  }
}
