import { AF_INET, errno, IPPROTO_GRE, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, sys } from './libc.ts';
import { BatchReceiver } from './packet-socket.ts';

/** GRE with a key, carrying Ethernet (transparent Ethernet bridging), as MidoNet's GRE zones use. */
const GRE_KEY_PRESENT = 0x2000;
const ETH_P_TEB = 0x6558;

/**
 * GRE tunnels over a raw IPv4 socket (protocol 47): the kernel adds the outer IP header; the
 * GRE key carries the egress port's tunnel key, as the VNI does for VXLAN.
 */
export class GreSocket {
  private readonly rx: BatchReceiver;

  private constructor(readonly fd: number) {
    this.rx = new BatchReceiver(fd);
  }

  static open(): GreSocket {
    const fd = sys.socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_GRE) as number;
    if (fd < 0) throw new Error(`raw GRE socket refused: errno ${errno()}`);
    return new GreSocket(fd);
  }

  send(peer: string, key: number, frame: Uint8Array): boolean {
    const pkt = Buffer.alloc(8 + frame.length);
    pkt.writeUInt16BE(GRE_KEY_PRESENT, 0);
    pkt.writeUInt16BE(ETH_P_TEB, 2);
    pkt.writeUInt32BE(key >>> 0, 4);
    pkt.set(frame, 8);
    const addr = Buffer.alloc(16);
    addr.writeUInt16LE(AF_INET, 0);
    for (const [i, o] of peer.split('.').entries()) addr[4 + i] = Number(o);
    return (sys.sendto(this.fd, pkt, pkt.length, 0, addr, 16) as number) > 0;
  }

  /** Each received GRE packet with a key and an Ethernet payload: (key, inner frame, source). */
  receive(each: (key: number, inner: Uint8Array, from: string) => void, malformed: () => void): number {
    return this.rx.receive((ip) => {
      const ihl = (ip[0]! & 15) * 4;
      const gre = ip.subarray(ihl);
      if (ip.length < ihl + 8 || (gre[0]! << 8 | gre[1]!) & ~GRE_KEY_PRESENT || ((gre[2]! << 8) | gre[3]!) !== ETH_P_TEB) {
        malformed();
        return;
      }
      const key = ((gre[4]! << 24) | (gre[5]! << 16) | (gre[6]! << 8) | gre[7]!) >>> 0;
      each(key, gre.subarray(8), `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`);
    });
  }

  close(): void {
    sys.close(this.fd);
    this.rx.free();
  }
}
