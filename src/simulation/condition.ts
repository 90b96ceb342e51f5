import { macFromString } from '../packets/bytes.ts';
import { ipToInt } from '../model/net.ts';
import type { FlowAction, FragmentPolicy, Rule, RuleType } from '../model/types.ts';
import type { PacketContext } from './context.ts';
import { F, Frag } from './flow-match.ts';
import { maskOf } from './routing-table.ts';

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

/** A rule compiled for the simulation: only the checks its condition sets, in a flat array. */
export interface SimRule {
  id: string;
  tag: string;
  type: RuleType;
  checks: Check[];
  condInvert: boolean;
  fragmentPolicy: FragmentPolicy;
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

const hasPorts = (ctx: PacketContext) => {
  ctx.seen |= F.IpProto | F.IpFrag;
  const p = ctx.match.ipProto;
  return isIp(ctx) && ctx.match.ipFrag !== Frag.Later && (p === 6 || p === 17 || p === 1 || p === 132);
};

function prefix(addr: number, len: number, field: 'ipSrc' | 'ipDst', bit: number): Check['test'] {
  const mask = maskOf(len);
  const net = (addr & mask) >>> 0;
  return (ctx) => {
    ctx.seen |= bit;
    return isIp(ctx) && ((ctx.match[field] & mask) >>> 0) === net;
  };
}

function macMatch(mac: string, maskText: string | null, field: 'ethSrc' | 'ethDst', bit: number): Check['test'] {
  const want = macFromString(mac);
  // "ffff.ffff.0000": compare only the bits set in the mask. Split in two halves to stay exact.
  const mask = maskText ? parseInt(maskText.replace(/\./g, ''), 16) : 0xffffffffffff;
  const hiMask = Math.floor(mask / 0x1000000);
  const loMask = mask % 0x1000000;
  const hi = (x: number) => Math.floor(x / 0x1000000) & hiMask;
  const lo = (x: number) => x % 0x1000000 & loMask;
  return (ctx) => {
    ctx.seen |= bit;
    const v = ctx.match[field];
    return hi(v) === hi(want) && lo(v) === lo(want);
  };
}

function range(r: { start: number; end: number }, field: 'srcPort' | 'dstPort', bit: number): Check['test'] {
  return (ctx) => {
    ctx.seen |= bit;
    const v = ctx.match[field];
    return hasPorts(ctx) && v >= r.start && v <= r.end;
  };
}

function fragmentTest(policy: FragmentPolicy): Check['test'] | null {
  if (policy === 'any') return null;
  return (ctx) => {
    ctx.seen |= F.IpFrag;
    const f = isIp(ctx) ? ctx.match.ipFrag : Frag.None;
    if (policy === 'header') return f !== Frag.Later;
    if (policy === 'nonheader') return f === Frag.Later;
    return f === Frag.None;
  };
}

/** Compiles a stored rule: every Condition field that is set becomes one check. */
export function compileRule(r: Rule): SimRule {
  const checks: Check[] = [];
  const add = (test: Check['test'], inv = false) => checks.push({ test, inv });
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
    add((ctx) => ctx.traversed.has(d), r.invTraversedDevice);
  }
  if (r.noVlan) add((ctx) => ((ctx.seen |= F.Vlan), ctx.match.vlan === -1));
  if (r.vlan !== null) {
    const v = r.vlan;
    add((ctx) => ((ctx.seen |= F.Vlan), ctx.match.vlan === v));
  }
  if (r.dlType !== null) {
    const t = r.dlType;
    add((ctx) => ((ctx.seen |= F.EtherType), ctx.match.etherType === t), r.invDlType);
  }
  if (r.dlSrc) add(macMatch(r.dlSrc, r.dlSrcMask, 'ethSrc', F.EthSrc), r.invDlSrc);
  if (r.dlDst) add(macMatch(r.dlDst, r.dlDstMask, 'ethDst', F.EthDst), r.invDlDst);
  if (r.nwTos !== null) {
    const t = r.nwTos;
    add((ctx) => ((ctx.seen |= F.IpTos), isIp(ctx) && ctx.match.ipTos === t), r.invNwTos);
  }
  if (r.nwProto !== null) {
    const p = r.nwProto;
    add((ctx) => ((ctx.seen |= F.IpProto), isIp(ctx) && ctx.match.ipProto === p), r.invNwProto);
  }
  if (r.nwSrcAddress) add(prefix(ipToInt(r.nwSrcAddress), r.nwSrcLength ?? 32, 'ipSrc', F.IpSrc), r.invNwSrc);
  if (r.nwDstAddress) add(prefix(ipToInt(r.nwDstAddress), r.nwDstLength ?? 32, 'ipDst', F.IpDst), r.invNwDst);
  if (r.matchNwDstRewritten) add((ctx) => ctx.match.ipDst !== ctx.orig.ipDst);
  if (r.tpSrc) add(range(r.tpSrc, 'srcPort', F.SrcPort), r.invTpSrc);
  if (r.tpDst) add(range(r.tpDst, 'dstPort', F.DstPort), r.invTpDst);
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
  const frag = fragmentTest(r.fragmentPolicy);
  if (frag) add(frag);

  const natTargets = (r.natTargets ?? []).map((t) => ({ ipFrom: ipToInt(t.addressFrom), ipTo: ipToInt(t.addressTo), portFrom: t.portFrom, portTo: t.portTo }));
  const one = natTargets.length === 1 ? natTargets[0]! : null;
  return {
    id: r.id,
    tag: `d:${r.id}`,
    type: r.type,
    checks,
    condInvert: r.condInvert,
    fragmentPolicy: r.fragmentPolicy,
    jumpChainId: r.jumpChainId,
    flowAction: r.flowAction,
    natTargets,
    staticNat: one !== null && one.ipFrom === one.ipTo && one.portFrom === 0 && one.portTo === 0,
  };
}

/** Whether the packet meets the rule's condition. */
export function conditionMatches(ctx: PacketContext, rule: SimRule): boolean {
  const checks = rule.checks;
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i]!;
    if (c.test(ctx) === c.inv) return rule.condInvert;
  }
  return !rule.condInvert;
}
