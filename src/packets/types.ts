/**
 * Parsed packets. MAC addresses are 48-bit numbers and IPv4 addresses 32-bit unsigned numbers,
 * so the simulation compares numbers, not strings. Length and checksum fields are recomputed
 * when building; parsing reports what the frame carried.
 */
export interface Ethernet {
  dst: number;
  src: number;
  /** 802.1Q tags, outermost first: the 16-bit TCI (priority, DEI, VLAN id). */
  vlans: number[];
  etherType: number;
  payload: Arp | Ipv4 | Raw;
}

export interface Raw {
  kind: 'raw';
  data: Uint8Array;
}

export interface Arp {
  kind: 'arp';
  op: number;
  sha: number;
  spa: number;
  tha: number;
  tpa: number;
}

export interface Ipv4 {
  kind: 'ipv4';
  tos: number;
  id: number;
  /** Don't-fragment and more-fragments flags. */
  df: boolean;
  mf: boolean;
  /** In 8-byte units. */
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: number;
  dst: number;
  options: Uint8Array;
  /** A non-first fragment carries no transport header: its payload is raw. */
  payload: Icmp | Udp | Tcp | Raw;
  /** As parsed; recomputed on build. */
  checksum?: number;
  totalLength?: number;
}

export interface Icmp {
  kind: 'icmp';
  type: number;
  code: number;
  /** The 4 bytes after the checksum: id and sequence for echo, unused/MTU for errors. */
  rest: number;
  data: Uint8Array;
  checksum?: number;
}

export interface Udp {
  kind: 'udp';
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  checksum?: number;
}

export interface Tcp {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: Uint8Array;
  payload: Uint8Array;
  checksum?: number;
}

export const ETH_ARP = 0x0806;
export const ETH_IPV4 = 0x0800;
export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_UNREACH = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const UNREACH_NET = 0;
export const UNREACH_HOST = 1;
export const UNREACH_PROTOCOL = 2;
export const UNREACH_PORT = 3;
export const UNREACH_FRAG_NEEDED = 4;
export const UNREACH_FILTER_PROHIBITED = 13;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };
