import { parseQuoted } from '../packets/ipv4.ts';
import { ETH_ARP, ETH_IPV4, type Ethernet } from '../packets/types.ts';
import { FlowMatch, Frag } from './flow-match.ts';

/** The flow match of a parsed frame arriving on a port. */
export function matchOf(frame: Ethernet, inPort: string): FlowMatch {
  const m = new FlowMatch();
  m.inPort = inPort;
  m.ethSrc = frame.src;
  m.ethDst = frame.dst;
  m.etherType = frame.etherType;
  m.vlan = frame.vlans.length > 0 ? frame.vlans[0]! & 0xfff : -1;
  const p = frame.payload;
  if (frame.etherType === ETH_ARP && p.kind === 'arp') {
    m.arpOp = p.op;
    m.ipSrc = p.spa;
    m.ipDst = p.tpa;
  } else if (frame.etherType === ETH_IPV4 && p.kind === 'ipv4') {
    m.ipSrc = p.src;
    m.ipDst = p.dst;
    m.ipProto = p.protocol;
    m.ipTos = p.tos;
    m.ipTtl = p.ttl;
    m.ipFrag = p.fragOffset > 0 ? Frag.Later : p.mf ? Frag.First : Frag.None;
    const l4 = p.payload;
    if (l4.kind === 'tcp') {
      m.srcPort = l4.srcPort;
      m.dstPort = l4.dstPort;
      m.tcpFlags = l4.flags;
    } else if (l4.kind === 'udp') {
      m.srcPort = l4.srcPort;
      m.dstPort = l4.dstPort;
    } else if (l4.kind === 'icmp') {
      m.srcPort = l4.type;
      m.dstPort = l4.code;
      if (l4.type === 0 || l4.type === 8) m.icmpId = l4.rest >>> 16;
      else if (l4.type === 3 || l4.type === 11 || l4.type === 12) m.icmpData = parseQuoted(l4.data);
    }
  }
  return m;
}
