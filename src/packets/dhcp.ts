import { MalformedPacket, Reader, Writer } from './bytes.ts';
import type { ParseResult } from './types.ts';

export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

/** A BOOTP message with DHCP options (RFC 2131/2132). */
export interface Dhcp {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  /** Client hardware address (the first hlen of chaddr's 16 bytes), as a MAC number. */
  chaddr: number;
  options: DhcpOption[];
}

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const DHCP_FLAG_BROADCAST = 0x8000;

export enum DhcpMsg {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
}

export const OPT = {
  subnetMask: 1,
  router: 3,
  dns: 6,
  hostName: 12,
  domainName: 15,
  mtu: 26,
  requestedIp: 50,
  leaseTime: 51,
  messageType: 53,
  serverId: 54,
  paramRequest: 55,
  renewalTime: 58,
  rebindingTime: 59,
  classlessRoutes: 121,
} as const;

const MAGIC = 0x63825363;

export function parseDhcp(bytes: Uint8Array): ParseResult<Dhcp> {
  try {
    const r = new Reader(bytes);
    const op = r.u8('BOOTP op');
    const htype = r.u8('BOOTP htype');
    const hlen = r.u8('BOOTP hlen');
    const hops = r.u8('BOOTP hops');
    const xid = r.u32('BOOTP xid');
    const secs = r.u16('BOOTP secs');
    const flags = r.u16('BOOTP flags');
    const ciaddr = r.u32('ciaddr');
    const yiaddr = r.u32('yiaddr');
    const siaddr = r.u32('siaddr');
    const giaddr = r.u32('giaddr');
    if (hlen !== 6) throw new MalformedPacket(`BOOTP hlen ${hlen} is not an Ethernet address`);
    const chaddr = r.sub(16, 'chaddr').mac('chaddr');
    r.take(64 + 128, 'sname/file');
    if (r.u32('DHCP magic cookie') !== MAGIC) throw new MalformedPacket('not DHCP: bad magic cookie');
    const options: DhcpOption[] = [];
    while (r.remaining > 0) {
      const code = r.u8('DHCP option');
      if (code === 0) continue;
      if (code === 255) break;
      const len = r.u8('DHCP option length');
      options.push({ code, data: r.take(len, `DHCP option ${code}`) });
    }
    return { ok: true, value: { op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, options } };
  } catch (err) {
    if (err instanceof MalformedPacket) return { ok: false, reason: err.reason };
    throw err;
  }
}

export function buildDhcp(d: Dhcp): Uint8Array {
  const w = new Writer(300);
  w.u8(d.op).u8(d.htype).u8(d.hlen).u8(d.hops).u32(d.xid).u16(d.secs).u16(d.flags);
  w.u32(d.ciaddr).u32(d.yiaddr).u32(d.siaddr).u32(d.giaddr).mac(d.chaddr).zeros(10).zeros(64 + 128).u32(MAGIC);
  for (const o of d.options) {
    if (o.data.length > 255) throw new RangeError(`DHCP option ${o.code} longer than 255 bytes`);
    w.u8(o.code).u8(o.data.length).bytes(o.data);
  }
  w.u8(255);
  // Some clients ignore replies shorter than a minimal BOOTP message (300 bytes).
  if (w.pos < 300) w.zeros(300 - w.pos);
  return w.done();
}

export function dhcpOption(d: Dhcp, code: number): Uint8Array | undefined {
  return d.options.find((o) => o.code === code)?.data;
}

export const u32Bytes = (v: number) => new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
export const u16Bytes = (v: number) => new Uint8Array([(v >>> 8) & 255, v & 255]);
export const ipsBytes = (ips: number[]) => {
  const out = new Uint8Array(ips.length * 4);
  ips.forEach((ip, i) => out.set(u32Bytes(ip), i * 4));
  return out;
};
