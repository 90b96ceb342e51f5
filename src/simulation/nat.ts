import { intToIp } from '../model/net.ts';
import type { SimRule } from './condition.ts';
import type { PacketContext } from './context.ts';
import { F, type FlowMatch } from './flow-match.ts';

/** Default port range for dynamic SNAT when a target leaves ports at 0 (MidoNet's 1024..65535). */
const DYNAMIC_PORTS: [number, number] = [1024, 65535];

const PROTO_ICMP = 1;
const hasPorts = (p: number) => p === 6 || p === 17 || p === PROTO_ICMP;

function setSrcTp(m: FlowMatch, port: number): void {
  if (m.ipProto === PROTO_ICMP) m.icmpId = port;
  else if (hasPorts(m.ipProto)) m.srcPort = port;
}

function setDstTp(m: FlowMatch, port: number): void {
  if (m.ipProto === PROTO_ICMP) m.icmpId = port;
  else if (hasPorts(m.ipProto)) m.dstPort = port;
}

/**
 * A 5-tuple as seven UTF-16 code units: far cheaper to build and hash than decimal text, and
 * flow-state keys are built for every new flow.
 */
export const tuple = (proto: number, src: number, sport: number, dst: number, dport: number): string =>
  String.fromCharCode(proto, src >>> 16, src & 0xffff, sport, dst >>> 16, dst & 0xffff, dport);

/** ICMP errors carry the flow they answer inside: they are translated by that flow's keys. */
const isIcmpError = (m: FlowMatch) => m.ipProto === PROTO_ICMP && m.icmpData !== null;

/**
 * dnat/snat rules. The first packet of a flow picks a binding (static for floating IPs; leased
 * ports for dynamic SNAT, never the same (ip, port) for two flows) and stores a forward key and
 * the reverse key its replies will match; later packets reuse the forward key.
 * Returns false when no port is left: the packet is dropped and counted.
 */
export function forwardNat(ctx: PacketContext, rule: SimRule, kind: 'snat' | 'dnat'): boolean {
  const m = ctx.match;
  ctx.seen |= F.EtherType | F.IpSrc | F.IpDst | F.IpProto | F.SrcPort | F.DstPort | F.IcmpId;
  if (m.etherType !== 0x0800 || isIcmpError(m)) return true;
  const dev = ctx.currentDevice;
  const tok = ctx.state.deviceToken(dev);
  const ttl = ctx.state.config.stateKeyTtlMs;
  const fwd = `f${kind}|${tok}|${tuple(m.ipProto, m.ipSrc, m.tpKeySrc, m.ipDst, m.tpKeyDst)}`;
  let b = ctx.state.nat.get(fwd, ctx.now);
  if (b) {
    b.expires = ctx.now + ttl;
  } else {
    const t = rule.natTargets[0];
    if (!t) return true;
    const keepPort = kind === 'snat' ? m.tpKeySrc : m.tpKeyDst;
    let ip: number;
    let port = keepPort;
    let leased = false;
    if (rule.staticNat || !hasPorts(m.ipProto)) {
      ip = t.ipFrom + (rule.staticNat ? 0 : (m.ipSrc ^ m.ipDst) % (t.ipTo - t.ipFrom + 1));
    } else if (kind === 'snat') {
      const [lo, hi] = t.portFrom === 0 && t.portTo === 0 ? DYNAMIC_PORTS : [t.portFrom, t.portTo];
      const got = ctx.state.leaser.allocate(dev, t.ipFrom, t.ipTo, lo, hi, (m.ipSrc ^ m.tpKeySrc) >>> 0);
      if (!got) {
        ctx.state.count('nat_port_exhausted');
        ctx.log('nat', rule.id, 'SNAT ports exhausted: drop');
        return false;
      }
      ({ ip, port } = got);
      leased = true;
    } else {
      ip = t.ipFrom + ((m.ipSrc ^ m.tpKeySrc) >>> 0) % (t.ipTo - t.ipFrom + 1);
      if (t.portFrom !== 0) port = t.portFrom + ((m.ipSrc ^ m.tpKeySrc) >>> 0) % (t.portTo - t.portFrom + 1);
    }
    const binding = { ip: ip >>> 0, port, device: dev, leased, expires: 0 };
    ctx.state.nat.set(fwd, binding, ctx.now + ttl);
    b = binding;
  }
  // The reverse key is what a reply looks like after translation, leading back to the original.
  // An ICMP echo id is both "ports": once translated, the reply carries the new id on both sides.
  const icmp = m.ipProto === PROTO_ICMP;
  const rev =
    kind === 'snat'
      ? `rsnat|${tok}|${tuple(m.ipProto, m.ipDst, icmp ? b.port : m.tpKeyDst, b.ip, b.port)}`
      : `rdnat|${tok}|${tuple(m.ipProto, b.ip, b.port, m.ipSrc, icmp ? b.port : m.tpKeySrc)}`;
  const orig = kind === 'snat' ? { ip: m.ipSrc, port: m.tpKeySrc } : { ip: m.ipDst, port: m.tpKeyDst };
  ctx.state.nat.set(rev, orig, ctx.now + ttl);
  // Every simulation that uses the binding reports both keys: the packet may take a new path
  // (after an ARP wait, a route change) to a host that has not seen them.
  ctx.stateKeys.push(fwd, rev);
  // A flow-state key is its own flow tag.
  ctx.tag(fwd);
  if (kind === 'snat') {
    m.ipSrc = b.ip;
    setSrcTp(m, b.port);
  } else {
    m.ipDst = b.ip;
    setDstTp(m, b.port);
  }
  if (ctx.trace) ctx.log('nat', rule.id, `${kind} to ${intToIp(b.ip)}:${b.port}`);
  return true;
}

/** rev_dnat/rev_snat: undo the translation for a reply (or an ICMP error about the flow). */
export function reverseNat(ctx: PacketContext, rule: SimRule, kind: 'snat' | 'dnat'): void {
  const m = ctx.match;
  ctx.seen |= F.EtherType | F.IpSrc | F.IpDst | F.IpProto | F.SrcPort | F.DstPort | F.IcmpId | F.IcmpData;
  if (m.etherType !== 0x0800) return;
  const tok = ctx.state.deviceToken(ctx.currentDevice);
  const q = isIcmpError(m) ? m.icmpData! : null;
  // An ICMP error quotes the forward packet; its reply-direction tuple is the quote reversed.
  const key = q
    ? `r${kind}|${tok}|${tuple(q.protocol, q.dst, q.dstPort, q.src, q.srcPort)}`
    : `r${kind}|${tok}|${tuple(m.ipProto, m.ipSrc, m.tpKeySrc, m.ipDst, m.tpKeyDst)}`;
  const b = ctx.state.nat.get(key, ctx.now);
  if (!b) return;
  b.expires = ctx.now + ctx.state.config.stateKeyTtlMs;
  ctx.tag(key);
  if (kind === 'snat') {
    m.ipDst = b.ip;
    if (q) m.icmpData = { ...q, src: b.ip, srcPort: b.port, dstPort: q.protocol === PROTO_ICMP ? b.port : q.dstPort };
    else setDstTp(m, b.port);
  } else {
    m.ipSrc = b.ip;
    if (q) m.icmpData = { ...q, dst: b.ip, dstPort: b.port, srcPort: q.protocol === PROTO_ICMP ? b.port : q.srcPort };
    else setSrcTp(m, b.port);
  }
  if (ctx.trace) ctx.log('nat', rule.id, `rev_${kind} to ${intToIp(b.ip)}:${b.port}`);
}
