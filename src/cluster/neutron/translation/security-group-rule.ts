/**
 * Security group rule -> an accept rule in its group's chain for the rule's direction. A rule on
 * L4 ports matches header fragments only, and gets a twin (no ports) that lets the later fragments
 * of the same flows through. Inputs: the rule.
 */
import { parseCidr } from '../../../model/net.ts';
import { T } from '../../../model/types.ts';
import { derivedId } from '../ids.ts';
import type { NSecurityGroupRule } from '../../../model/neutron.ts';
import { ETHERTYPE, type RuleSpec, type Translation } from './context.ts';
import { sgEgressChainId, sgIngressChainId } from './security-group.ts';

export const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, gre: 47, esp: 50, ah: 51, igmp: 2, vrrp: 112 };

/** The IP protocol number of a rule's protocol (a name or a number), null for any. */
export function protocolNumber(p: string | null): number | null {
  if (p === null || p === '' || p === 'any') return null;
  return /^\d+$/.test(p) ? Number(p) : (PROTOCOLS[p.toLowerCase()] ?? null);
}

const twinId = (rule: string) => derivedId(rule, 'sg_rule_nonheader');

function conditionOf(r: NSecurityGroupRule): RuleSpec {
  const proto = protocolNumber(r.protocol);
  const spec: RuleSpec = { type: 'accept', dlType: r.ethertype === 'IPv6' ? ETHERTYPE.ipv6 : ETHERTYPE.ipv4, nwProto: proto };
  const ingress = r.direction === 'ingress';
  if (r.remote_ip_prefix) {
    const c = parseCidr(r.remote_ip_prefix.includes('/') ? r.remote_ip_prefix : `${r.remote_ip_prefix}/32`);
    if (c && c.length > 0) {
      if (ingress) Object.assign(spec, { nwSrcAddress: c.address, nwSrcLength: c.length });
      else Object.assign(spec, { nwDstAddress: c.address, nwDstLength: c.length });
    }
  }
  if (r.remote_group_id) spec[ingress ? 'ipAddrGroupSrc' : 'ipAddrGroupDst'] = r.remote_group_id;
  return spec;
}

function portsOf(r: NSecurityGroupRule): Partial<RuleSpec> | null {
  const icmp = r.protocol === 'icmp' || r.protocol === '1';
  if (icmp) {
    // Neutron reuses the port range as ICMP type (min) and code (max).
    if (r.port_range_min === null) return null;
    const out: Partial<RuleSpec> = { tpSrc: { start: r.port_range_min, end: r.port_range_min } };
    if (r.port_range_max !== null) out.tpDst = { start: r.port_range_max, end: r.port_range_max };
    return out;
  }
  if (r.port_range_min === null && r.port_range_max === null) return null;
  return { tpDst: { start: r.port_range_min ?? 0, end: r.port_range_max ?? 65535 } };
}

export async function translateSecurityGroupRule(t: Translation, r: NSecurityGroupRule): Promise<void> {
  const chain = r.direction === 'ingress' ? sgIngressChainId(r.security_group_id) : sgEgressChainId(r.security_group_id);
  const spec = conditionOf(r);
  const ports = portsOf(r);
  if (!ports) {
    await t.putRule(r.id, chain, { ...spec, fragmentPolicy: 'any' });
    return;
  }
  await t.putRule(r.id, chain, { ...spec, ...ports, fragmentPolicy: 'header' });
  await t.putRule(twinId(r.id), chain, { ...spec, fragmentPolicy: 'nonheader' });
}

export async function deleteSecurityGroupRule(t: Translation, r: NSecurityGroupRule): Promise<void> {
  await t.tx.delete(T.Rule, r.id, true);
  await t.tx.delete(T.Rule, twinId(r.id), true);
}
