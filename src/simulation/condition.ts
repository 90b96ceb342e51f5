import { macFromString } from '../packets/bytes.ts';
import { ipToInt, maskOf } from '../model/net.ts';
import type { FlowAction, FragmentPolicy, Rule, RuleType } from '../model/types.ts';
import type { PacketContext } from './context.ts';
import { F, Frag } from './flow-match.ts';

/** One test of a condition; `inv` flips it (MidoNet's per-field inversion flags). */
interface Check {
  test: (ctx: PacketContext) => boolean;
  inv: boolean;
}

export interface SimNatTarget {
  ipFrom: number;
  ipTo: number;
  portFrom: number;
  portTo: number;
}

/**
 * A rule compiled for the simulation. The common match fields are plain numbers tested inline
 * (a 100-rule chain must not cost 100 closure calls); the rare ones are closures in `extra`.
 * A field is unset when its `has*` flag is false.
 */
export interface SimRule {
  id: string;
  tag: string;
  type: RuleType;
  condInvert: boolean;
  hasDlType: boolean;
  dlType: number;
  invDlType: boolean;
  hasProto: boolean;
  proto: number;
  invProto: boolean;
  hasSrc: boolean;
  srcNet: number;
  srcMask: number;
  invSrc: boolean;
  hasDst: boolean;
  dstNet: number;
  dstMask: number;
  invDst: boolean;
  hasTpSrc: boolean;
  tpSrcStart: number;
  tpSrcEnd: number;
  invTpSrc: boolean;
  hasTpDst: boolean;
  tpDstStart: number;
  tpDstEnd: number;
  invTpDst: boolean;
  fragmentPolicy: FragmentPolicy;
  extra: Check[];
  jumpChainId: string | null;
  flowAction: FlowAction | null;
  natTargets: SimNatTarget[];
  /** One address, ports kept: a floating IP (static NAT, no port leasing). */
  staticNat: boolean;
}

const isIp = (ctx: PacketContext) => {
  ctx.seen |= F.EtherType;
  return ctx.match.etherType === 0x0800;
};

function macMatch(mac: string, maskText: string | null, field: 'ethSrc' | 'ethDst', bit: number): Check['test'] {
  const want = macFromString(mac);
  // "ffff.ffff.0000": compare only the bits set in the mask. Split in two halves to stay exact.
  const mask = maskText ? parseInt(maskText.replace(/\./g, ''), 16) : 0xffffffffffff;
  const hiMask = Math.floor(mask / 0x1000000);
  const loMask = mask % 0x1000000;
  const hi = (x: number) => Math.floor(x / 0x1000000) & hiMask;
  const lo = (x: number) => (x % 0x1000000) & loMask;
  return (ctx) => {
    ctx.seen |= bit;
    const v = ctx.match[field];
    return hi(v) === hi(want) && lo(v) === lo(want);
  };
}

/** Compiles a stored rule: the numeric fields inline, everything else as extra checks. */
export function compileRule(r: Rule): SimRule {
  const extra: Check[] = [];
  const add = (test: Check['test'], inv = false) => extra.push({ test, inv });
  if (r.matchForwardFlow) add((ctx) => ctx.isForwardFlow());
  if (r.matchReturnFlow) add((ctx) => !ctx.isForwardFlow());
  if (r.inPorts.length > 0) {
    const s = new Set(r.inPorts);
    add((ctx) => ((ctx.seen |= F.InPort), s.has(ctx.currentInPort)), r.invInPorts);
  }
  if (r.outPorts.length > 0) {
    const s = new Set(r.outPorts);
    add((ctx) => ctx.outPortId !== null && s.has(ctx.outPortId), r.invOutPorts);
  }
  const inGroup = (g: string) => (ctx: PacketContext) => ((ctx.seen |= F.InPort), ctx.inPortGroups.includes(g));
  if (r.portGroup) add(inGroup(r.portGroup), r.invPortGroup);
  if (r.inPortGroup) add(inGroup(r.inPortGroup), r.invInPortGroup);
  if (r.outPortGroup) {
    const g = r.outPortGroup;
    add((ctx) => ctx.outPortGroups.includes(g), r.invOutPortGroup);
  }
  const addrGroup = (g: string, field: 'ipSrc' | 'ipDst', bit: number) => (ctx: PacketContext) => {
    ctx.seen |= bit;
    ctx.tag(`d:${g}`);
    return isIp(ctx) && ctx.topology.ipAddrGroup(g).has(ctx.match[field]);
  };
  if (r.ipAddrGroupSrc) add(addrGroup(r.ipAddrGroupSrc, 'ipSrc', F.IpSrc), r.invIpAddrGroupSrc);
  if (r.ipAddrGroupDst) add(addrGroup(r.ipAddrGroupDst, 'ipDst', F.IpDst), r.invIpAddrGroupDst);
  if (r.traversedDevice) {
    const d = r.traversedDevice;
    add((ctx) => ctx.traversed.includes(d), r.invTraversedDevice);
  }
  if (r.noVlan) add((ctx) => ((ctx.seen |= F.Vlan), ctx.match.vlan === -1));
  if (r.vlan !== null) {
    const v = r.vlan;
    add((ctx) => ((ctx.seen |= F.Vlan), ctx.match.vlan === v));
  }
  if (r.dlSrc) add(macMatch(r.dlSrc, r.dlSrcMask, 'ethSrc', F.EthSrc), r.invDlSrc);
  if (r.dlDst) add(macMatch(r.dlDst, r.dlDstMask, 'ethDst', F.EthDst), r.invDlDst);
  if (r.nwTos !== null) {
    const t = r.nwTos;
    add((ctx) => ((ctx.seen |= F.IpTos), isIp(ctx) && ctx.match.ipTos === t), r.invNwTos);
  }
  if (r.matchNwDstRewritten) add((ctx) => ctx.match.ipDst !== ctx.orig.ipDst);
  const quoted = (addr: string, len: number | null, field: 'src' | 'dst') => {
    const mask = maskOf(len ?? 32);
    const net = (ipToInt(addr) & mask) >>> 0;
    return (ctx: PacketContext) => {
      ctx.seen |= F.IcmpData;
      const q = ctx.match.icmpData;
      return q !== null && ((q[field] & mask) >>> 0) === net;
    };
  };
  if (r.icmpDataSrcIpAddress) add(quoted(r.icmpDataSrcIpAddress, r.icmpDataSrcIpLength, 'src'), r.invIcmpDataSrcIp);
  if (r.icmpDataDstIpAddress) add(quoted(r.icmpDataDstIpAddress, r.icmpDataDstIpLength, 'dst'), r.invIcmpDataDstIp);

  const srcMask = maskOf(r.nwSrcLength ?? 32);
  const dstMask = maskOf(r.nwDstLength ?? 32);
  const natTargets = (r.natTargets ?? []).map((t) => ({ ipFrom: ipToInt(t.addressFrom), ipTo: ipToInt(t.addressTo), portFrom: t.portFrom, portTo: t.portTo }));
  const one = natTargets.length === 1 ? natTargets[0]! : null;
  return {
    id: r.id,
    tag: `d:${r.id}`,
    type: r.type,
    condInvert: r.condInvert,
    hasDlType: r.dlType !== null, dlType: r.dlType ?? 0, invDlType: r.invDlType,
    hasProto: r.nwProto !== null, proto: r.nwProto ?? 0, invProto: r.invNwProto,
    hasSrc: r.nwSrcAddress !== null, srcNet: r.nwSrcAddress ? (ipToInt(r.nwSrcAddress) & srcMask) >>> 0 : 0, srcMask, invSrc: r.invNwSrc,
    hasDst: r.nwDstAddress !== null, dstNet: r.nwDstAddress ? (ipToInt(r.nwDstAddress) & dstMask) >>> 0 : 0, dstMask, invDst: r.invNwDst,
    hasTpSrc: r.tpSrc !== null, tpSrcStart: r.tpSrc?.start ?? 0, tpSrcEnd: r.tpSrc?.end ?? 0, invTpSrc: r.invTpSrc,
    hasTpDst: r.tpDst !== null, tpDstStart: r.tpDst?.start ?? 0, tpDstEnd: r.tpDst?.end ?? 0, invTpDst: r.invTpDst,
    fragmentPolicy: r.fragmentPolicy,
    extra,
    jumpChainId: r.jumpChainId,
    flowAction: r.flowAction,
    natTargets,
    staticNat: one !== null && one.ipFrom === one.ipTo && one.portFrom === 0 && one.portTo === 0,
  };
}

/**
 * Whether the packet meets the rule's condition: every set field must match (each with its own
 * inversion), and condInvert flips the whole. Fields read are recorded for the wildcard flow.
 */
export function conditionMatches(ctx: PacketContext, r: SimRule): boolean {
  const m = ctx.match;
  const ip = m.etherType === 0x0800;
  // As in MidoNet, an ARP packet's sender and target addresses are its network source and destination.
  const addressed = ip || m.etherType === 0x0806;
  let seen = F.EtherType;
  let ok = true;
  if (r.hasDlType && (m.etherType === r.dlType) === r.invDlType) ok = false;
  else if (r.hasProto && ((seen |= F.IpProto), (ip && m.ipProto === r.proto) === r.invProto)) ok = false;
  else if (r.hasSrc && ((seen |= F.IpSrc), (addressed && ((m.ipSrc & r.srcMask) >>> 0) === r.srcNet) === r.invSrc)) ok = false;
  else if (r.hasDst && ((seen |= F.IpDst), (addressed && ((m.ipDst & r.dstMask) >>> 0) === r.dstNet) === r.invDst)) ok = false;
  else if (r.hasTpSrc || r.hasTpDst) {
    seen |= F.IpProto | F.IpFrag;
    const p = m.ipProto;
    const ports = ip && m.ipFrag !== Frag.Later && (p === 6 || p === 17 || p === 1 || p === 132);
    if (r.hasTpSrc && ((seen |= F.SrcPort), (ports && m.srcPort >= r.tpSrcStart && m.srcPort <= r.tpSrcEnd) === r.invTpSrc)) ok = false;
    else if (r.hasTpDst && ((seen |= F.DstPort), (ports && m.dstPort >= r.tpDstStart && m.dstPort <= r.tpDstEnd) === r.invTpDst)) ok = false;
  }
  if (ok && r.fragmentPolicy !== 'any') {
    seen |= F.IpFrag;
    const f = ip ? m.ipFrag : Frag.None;
    const policy = r.fragmentPolicy;
    ok = policy === 'header' ? f !== Frag.Later : policy === 'nonheader' ? f === Frag.Later : f === Frag.None;
  }
  ctx.seen |= seen;
  if (ok) {
    const extra = r.extra;
    for (let i = 0; i < extra.length; i++) {
      const c = extra[i]!;
      if (c.test(ctx) === c.inv) {
        ok = false;
        break;
      }
    }
  }
  return ok !== r.condInvert;
}
