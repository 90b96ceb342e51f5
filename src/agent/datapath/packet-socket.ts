import { AF_PACKET, SO_RCVBUF, SO_RCVBUFFORCE, SOL_SOCKET, errno, ETH_P_ALL, koffi, MSG_DONTWAIT, PACKET_IGNORE_OUTGOING, PACKET_VNET_HDR, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, sys } from './libc.ts';
import { unoffload, VNET_HDR_LEN } from './offload.ts';

/** Frames moved per recvmmsg/sendmmsg call: syscalls are the cost, so batch them. */
export const BATCH = 64;
/** Room per frame: a 1500-byte MTU frame plus VLAN tags, rounded up. */
export const SLOT = 2048;
/** Room per received frame on a port: a whole TCP or UDP super-frame (64 KiB) and its vnet header. */
const PORT_RX_SLOT = 66 * 1024;
/** Room per sent frame on a port: a 9000-byte jumbo frame and its vnet header, rounded up. */
const PORT_TX_SLOT = 16 * 1024;

const MMSG = 64; // sizeof(struct mmsghdr) on x86_64
const RCVBUF_BYTES = 8 * 1024 * 1024;
const IOV = 16; // sizeof(struct iovec)

const htons = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

/**
 * One batch of native buffers laid out for recvmmsg/sendmmsg: BATCH message headers, each with
 * one iovec pointing at its own SLOT-sized frame buffer. Frames are read and written through
 * views on that memory, without copies on the way in.
 */
class NativeBatch {
  readonly headers: unknown;
  private readonly owned: unknown[];
  readonly headerView: DataView;
  readonly frames: Uint8Array;
  private readonly iovView: DataView;

  constructor(readonly slot = SLOT) {
    const data = koffi.alloc('uint8_t', BATCH * slot);
    this.headers = koffi.alloc('uint8_t', BATCH * MMSG);
    const iovs = koffi.alloc('uint8_t', BATCH * IOV);
    this.owned = [data, this.headers, iovs];
    this.frames = new Uint8Array(koffi.view(data, BATCH * slot));
    this.headerView = new DataView(koffi.view(this.headers, BATCH * MMSG));
    this.iovView = new DataView(koffi.view(iovs, BATCH * IOV));
    const dataAddr = koffi.address(data) as bigint;
    const iovAddr = koffi.address(iovs) as bigint;
    for (let i = 0; i < BATCH; i++) {
      this.iovView.setBigUint64(i * IOV, dataAddr + BigInt(i * slot), true);
      this.iovView.setBigUint64(i * IOV + 8, BigInt(slot), true);
      const h = i * MMSG;
      // struct msghdr: name, namelen, iov, iovlen, control, controllen, flags; then msg_len.
      this.headerView.setBigUint64(h, 0n, true);
      this.headerView.setUint32(h + 8, 0, true);
      this.headerView.setBigUint64(h + 16, iovAddr + BigInt(i * IOV), true);
      this.headerView.setBigUint64(h + 24, 1n, true);
      this.headerView.setBigUint64(h + 32, 0n, true);
      this.headerView.setBigUint64(h + 40, 0n, true);
      this.headerView.setInt32(h + 48, 0, true);
      this.headerView.setUint32(h + 56, 0, true);
    }
  }

  setLength(i: number, len: number): void {
    this.iovView.setBigUint64(i * IOV + 8, BigInt(len), true);
  }

  received(i: number): number {
    return this.headerView.getUint32(i * MMSG + 56, true);
  }

  frame(i: number, len: number): Uint8Array {
    return this.frames.subarray(i * this.slot, i * this.slot + len);
  }

  free(): void {
    for (const p of this.owned) koffi.free(p);
  }
}

/** Receives batches of datagrams from a non-blocking socket into native buffers. */
export class BatchReceiver {
  constructor(
    readonly fd: number,
    private readonly rx = new NativeBatch(),
  ) {}

  receive(each: (frame: Uint8Array) => void): number {
    for (let i = 0; i < BATCH; i++) this.rx.setLength(i, this.rx.slot);
    const n = sys.recvmmsg(this.fd, this.rx.headers, BATCH, MSG_DONTWAIT, null) as number;
    if (n <= 0) return 0;
    for (let i = 0; i < n; i++) each(this.rx.frame(i, this.rx.received(i)));
    return n;
  }

  free(): void {
    this.rx.free();
  }
}

/**
 * The ports' buffers, one set for all: a batch is received, handled and flushed before the next
 * receive or send of any port, and super-frames make per-port buffers costly (4 MiB each).
 */
let portBuffers: { rx: NativeBatch; tx: NativeBatch } | null = null;

function sharedPortBuffers(): { rx: NativeBatch; tx: NativeBatch } {
  if (!portBuffers) {
    // Sent frames carry an all-zero vnet header (nothing left to do): written once, never touched.
    portBuffers = { rx: new NativeBatch(PORT_RX_SLOT), tx: new NativeBatch(PORT_TX_SLOT) };
  }
  return portBuffers;
}

/**
 * An AF_PACKET socket bound to one interface: every frame in, any frame out, in batches, never
 * blocking. The agent polls its fd for readiness (see poller.ts). With a virtio-net header on
 * every frame, so VMs keep their checksum and segmentation offloads (see offload.ts).
 */
export class PacketSocket {
  private readonly rx: BatchReceiver;
  private readonly tx: NativeBatch;
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly ifname: string,
    readonly ifindex: number,
  ) {
    const buffers = sharedPortBuffers();
    this.rx = new BatchReceiver(fd, buffers.rx);
    this.tx = buffers.tx;
  }

  static open(ifname: string): PacketSocket {
    const ifindex = sys.ifNameToIndex(ifname) as number;
    if (!ifindex) throw new Error(`no interface ${ifname}`);
    const fd = sys.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)) as number;
    if (fd < 0) throw new Error(`socket(AF_PACKET) failed: errno ${errno()}`);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    // Our own transmissions would otherwise come straight back to us.
    sys.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4);
    if ((sys.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one, 4) as number) < 0) {
      const e = errno();
      sys.close(fd);
      throw new Error(`PACKET_VNET_HDR on ${ifname} refused: errno ${e}`);
    }
    // Room for bursts that arrive while the event loop is busy elsewhere (the default holds a
    // few hundred small frames); FORCE lifts the sysctl cap when running as root.
    const size = Buffer.alloc(4);
    size.writeInt32LE(RCVBUF_BYTES);
    if ((sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) as number) < 0) sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
    const addr = Buffer.alloc(20);
    addr.writeUInt16LE(AF_PACKET, 0);
    addr.writeUInt16BE(ETH_P_ALL, 2);
    addr.writeInt32LE(ifindex, 4);
    if ((sys.bind(fd, addr, 20) as number) < 0) {
      const e = errno();
      sys.close(fd);
      throw new Error(`bind to ${ifname} failed: errno ${e}`);
    }
    return new PacketSocket(fd, ifname, ifindex);
  }

  /**
   * Reads up to BATCH waiting frames, returns how many; `each` gets ordinary frames (a super-frame
   * as its segments), each a view valid only during the call; `malformed` counts frames whose
   * vnet header does not describe them, dropped.
   */
  receive(each: (frame: Uint8Array) => void, malformed: () => void): number {
    if (this.closed) return 0;
    return this.rx.receive((buf) => {
      if (!unoffload(buf, each)) malformed();
    });
  }

  /** Sends frames in batches; returns how many went out (the rest: no buffer space). */
  send(frames: readonly Uint8Array[]): number {
    if (this.closed) return 0;
    let sent = 0;
    for (let off = 0; off < frames.length; off += BATCH) {
      const n = Math.min(BATCH, frames.length - off);
      for (let i = 0; i < n; i++) {
        const f = frames[off + i]!;
        const len = Math.min(f.length, PORT_TX_SLOT - VNET_HDR_LEN);
        this.tx.frames.set(f.subarray(0, len), i * PORT_TX_SLOT + VNET_HDR_LEN);
        this.tx.setLength(i, VNET_HDR_LEN + len);
      }
      const r = sys.sendmmsg(this.fd, this.tx.headers, n, MSG_DONTWAIT) as number;
      // EAGAIN: the interface queue is full; what did not go is dropped, as a NIC would.
      if (r < 0) break;
      sent += r;
      if (r < n) break;
    }
    return sent;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    sys.close(this.fd);
  }
}
