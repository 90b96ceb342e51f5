import type { QuotedHeader } from '../packets/ipv4.ts';

/** Bits of the header fields a simulation read: what a wildcard flow must match on. */
export const F = {
  InPort: 1 << 0,
  EthSrc: 1 << 1,
  EthDst: 1 << 2,
  EtherType: 1 << 3,
  Vlan: 1 << 4,
  IpSrc: 1 << 5,
  IpDst: 1 << 6,
  IpProto: 1 << 7,
  IpTos: 1 << 8,
  IpTtl: 1 << 9,
  IpFrag: 1 << 10,
  SrcPort: 1 << 11,
  DstPort: 1 << 12,
  IcmpId: 1 << 13,
  ArpOp: 1 << 14,
  TcpFlags: 1 << 15,
  IcmpData: 1 << 16,
} as const;

export const FIELD_NAMES: Record<number, string> = Object.fromEntries(Object.entries(F).map(([k, v]) => [v, k]));

/** Fragment state of an IPv4 packet. */
export enum Frag {
  None = 0,
  First = 1,
  Later = 2,
}

/**
 * The header fields a simulation looks at and rewrites. Numbers throughout (MACs are 48-bit,
 * IPv4 addresses 32-bit). For ICMP, srcPort/dstPort hold type/code (as MidoNet's tpSrc/tpDst) and
 * icmpId the echo identifier. For ARP, ipSrc/ipDst hold the sender/target protocol addresses.
 */
export class FlowMatch {
  inPort = '';
  ethSrc = 0;
  ethDst = 0;
  etherType = 0;
  /** -1: untagged. */
  vlan = -1;
  ipSrc = 0;
  ipDst = 0;
  ipProto = 0;
  ipTos = 0;
  ipTtl = 0;
  ipFrag: Frag = Frag.None;
  srcPort = 0;
  dstPort = 0;
  icmpId = 0;
  arpOp = 0;
  tcpFlags = 0;
  /** The datagram an ICMP error quotes, if any. */
  icmpData: QuotedHeader | null = null;

  clone(): FlowMatch {
    const m = new FlowMatch();
    m.copyFrom(this);
    return m;
  }

  copyFrom(o: FlowMatch): void {
    this.inPort = o.inPort;
    this.ethSrc = o.ethSrc;
    this.ethDst = o.ethDst;
    this.etherType = o.etherType;
    this.vlan = o.vlan;
    this.ipSrc = o.ipSrc;
    this.ipDst = o.ipDst;
    this.ipProto = o.ipProto;
    this.ipTos = o.ipTos;
    this.ipTtl = o.ipTtl;
    this.ipFrag = o.ipFrag;
    this.srcPort = o.srcPort;
    this.dstPort = o.dstPort;
    this.icmpId = o.icmpId;
    this.arpOp = o.arpOp;
    this.tcpFlags = o.tcpFlags;
    this.icmpData = o.icmpData;
  }

  /** The transport "ports" used by connection tracking and NAT: the echo id for ICMP. */
  get tpKeySrc(): number {
    return this.ipProto === 1 ? this.icmpId : this.srcPort;
  }

  get tpKeyDst(): number {
    return this.ipProto === 1 ? this.icmpId : this.dstPort;
  }
}

/** The fields that differ between two matches: what the datapath must rewrite. */
export interface Rewrites {
  ethSrc?: number;
  ethDst?: number;
  ipSrc?: number;
  ipDst?: number;
  ipTtl?: number;
  srcPort?: number;
  dstPort?: number;
  icmpId?: number;
  vlan?: number;
  icmpData?: QuotedHeader | null;
}

export function diff(from: FlowMatch, to: FlowMatch): Rewrites {
  const r: Rewrites = {};
  if (from.ethSrc !== to.ethSrc) r.ethSrc = to.ethSrc;
  if (from.ethDst !== to.ethDst) r.ethDst = to.ethDst;
  if (from.ipSrc !== to.ipSrc) r.ipSrc = to.ipSrc;
  if (from.ipDst !== to.ipDst) r.ipDst = to.ipDst;
  if (from.ipTtl !== to.ipTtl) r.ipTtl = to.ipTtl;
  if (from.srcPort !== to.srcPort) r.srcPort = to.srcPort;
  if (from.dstPort !== to.dstPort) r.dstPort = to.dstPort;
  if (from.icmpId !== to.icmpId) r.icmpId = to.icmpId;
  if (from.vlan !== to.vlan) r.vlan = to.vlan;
  if (from.icmpData !== to.icmpData) r.icmpData = to.icmpData;
  return r;
}
