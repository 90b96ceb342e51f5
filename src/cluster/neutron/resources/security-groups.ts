import { badRequest, conflict, NOT_FOUND } from '../errors.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import { NT, type NSecurityGroup, type NSecurityGroupRule } from '../../../model/neutron.ts';
import { isUuid } from '../../../model/net.ts';
import { deleteSecurityGroup, translateSecurityGroup } from '../translation/security-group.ts';
import { deleteSecurityGroupRule, protocolNumber, PROTOCOLS, translateSecurityGroupRule } from '../translation/security-group-rule.ts';
import { given, merged, standard, storeUpdate, type Handler, type Op } from './common.ts';

const PORTED = new Set([6, 17, 132, 33, 136]);
const ICMP = new Set([1, 58]);

/** The rule's protocol as Neutron keeps it: a known name in lower case, else the number as text. */
function normalProtocol(p: string | null): string | null {
  if (p === null || p === '' || p.toLowerCase() === 'any') return null;
  if (/^\d+$/.test(p)) return p;
  const name = p.toLowerCase();
  if (!(name in PROTOCOLS)) throw badRequest(`Security group rule protocol ${p} not supported. Only protocol values [${Object.keys(PROTOCOLS).join(', ')}] and integer representations [0 to 255] are supported.`);
  return name;
}

function checkPorts(r: NSecurityGroupRule): void {
  const proto = protocolNumber(r.protocol);
  const { port_range_min: min, port_range_max: max } = r;
  if (min === null && max === null) return;
  if (proto !== null && ICMP.has(proto)) {
    for (const [value, field, attr] of [[min, 'type', 'port_range_min'], [max, 'code', 'port_range_max']] as const) {
      if (value !== null && value > 255) throw badRequest(`Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
    }
    if (min === null && max !== null) throw badRequest(`ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    return;
  }
  if (proto === null || !PORTED.has(proto)) throw badRequest(`Invalid protocol ${r.protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.`);
  if (min === null || max === null || min > max || min === 0) {
    throw badRequest('For TCP/UDP protocols, port_range_min must be <= port_range_max');
  }
}

const SAME = ['direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max', 'remote_ip_prefix', 'remote_group_id'] as const;

async function addRule(op: Op, input: Record<string, unknown>, check = true): Promise<NSecurityGroupRule> {
  const sg = await op.t.tx.tryGet<NSecurityGroup>(NT.SecurityGroup, input.security_group_id as string);
  if (!sg) throw NOT_FOUND.security_group!(input.security_group_id as string);
  const prefix = given<string | null>(input, 'remote_ip_prefix', null);
  const r: NSecurityGroupRule = {
    ...standard(op, input),
    security_group_id: sg.id,
    direction: input.direction as 'ingress' | 'egress',
    ethertype: given(input, 'ethertype', 'IPv4'),
    protocol: normalProtocol(given(input, 'protocol', null)),
    port_range_min: given(input, 'port_range_min', null),
    port_range_max: given(input, 'port_range_max', null),
    remote_ip_prefix: prefix === null || prefix.includes('/') ? prefix : `${prefix}/32`,
    remote_group_id: given(input, 'remote_group_id', null),
    remote_address_group_id: null,
  };
  if (check) {
    if (r.remote_ip_prefix && r.remote_group_id) {
      throw badRequest('Only remote_ip_prefix or remote_group_id may be provided.');
    }
    checkPorts(r);
    if (r.remote_group_id && (!isUuid(r.remote_group_id) || !(await op.t.tx.exists(NT.SecurityGroup, r.remote_group_id)))) throw NOT_FOUND.security_group!(r.remote_group_id);
    for (const id of sg.security_group_rules) {
      const other = await op.t.tx.tryGet<NSecurityGroupRule>(NT.SecurityGroupRule, id);
      if (other && SAME.every((k) => other[k] === r[k])) throw conflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${other.id}.`);
    }
  }
  await op.t.tx.create(NT.SecurityGroupRule, r);
  await op.t.tx.update(NT.SecurityGroup, { ...sg, security_group_rules: [...sg.security_group_rules, r.id] });
  await translateSecurityGroupRule(op.t, r);
  return r;
}

async function removeRule(op: Op, r: NSecurityGroupRule): Promise<void> {
  await op.t.tx.delete(NT.SecurityGroupRule, r.id);
  const sg = await op.t.tx.tryGet<NSecurityGroup>(NT.SecurityGroup, r.security_group_id);
  if (sg) await op.t.tx.update(NT.SecurityGroup, { ...sg, security_group_rules: sg.security_group_rules.filter((x) => x !== r.id) });
  await deleteSecurityGroupRule(op.t, r);
}

async function newGroup(op: Op, input: Record<string, unknown>, rules: Record<string, unknown>[]): Promise<NSecurityGroup> {
  const sg: NSecurityGroup = {
    ...standard(op, input),
    name: given(input, 'name', ''),
    stateful: given(input, 'stateful', true),
    shared: false,
    security_group_rules: [],
  };
  await op.t.tx.create(NT.SecurityGroup, sg);
  await translateSecurityGroup(op.t, sg, null);
  for (const r of rules) await addRule(op, { tenant_id: sg.tenant_id, ...r, security_group_id: sg.id }, false);
  return (await op.t.tx.get<NSecurityGroup>(NT.SecurityGroup, sg.id));
}

const egressAll = [{ direction: 'egress', ethertype: 'IPv4' }, { direction: 'egress', ethertype: 'IPv6' }];

/** Only Neutron makes a project's `default` group (name_not_default). */
function notDefault(input: Record<string, unknown>): void {
  if (typeof input.name === 'string' && input.name.toLowerCase() === 'default') throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
}

/** The project's `default` group, made as Neutron makes it the first time a port needs it. */
export async function defaultGroup(op: Op, tenant: string): Promise<NSecurityGroup> {
  const [found] = await op.t.tx.find<NSecurityGroup>(IX.defaultSecurityGroup, indexKey(tenant));
  if (found) return found;
  const sg = await newGroup({ ...op, trusted: false }, { name: 'default', description: 'Default security group', tenant_id: tenant }, egressAll);
  // Members reach each other on anything.
  for (const ethertype of ['IPv4', 'IPv6']) await addRule(op, { tenant_id: tenant, security_group_id: sg.id, direction: 'ingress', ethertype, remote_group_id: sg.id }, false);
  return op.t.tx.get<NSecurityGroup>(NT.SecurityGroup, sg.id);
}

export const securityGroups: Handler<NSecurityGroup> = {
  resource: 'security_group',
  type: NT.SecurityGroup,
  async create(op, input) {
    if (!op.trusted) notDefault(input);
    // The plugin's front sends the rules Neutron made with the group; Neutron's own API adds them here.
    const rules = op.trusted ? given<Record<string, unknown>[]>(input, 'security_group_rules', []) : egressAll;
    return newGroup(op, input, rules);
  },
  update: (op, old, input) => {
    if (!op.trusted && 'name' in input) {
      if (old.name === 'default') throw conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      notDefault(input);
    }
    return storeUpdate(op, NT.SecurityGroup, old, input, ['security_group_rules'], translateSecurityGroup);
  },
  async remove(op, sg) {
    const users = await op.t.tx.lookup(IX.portsBySecurityGroup, indexKey(sg.id));
    if (users.length > 0) throw conflict('SecurityGroupInUse', `Security Group ${sg.id} in use.`);
    // Rules of other groups naming this one as remote go with it, as in Neutron's database.
    const own = await Promise.all(sg.security_group_rules.map((id) => op.t.tx.tryGet<NSecurityGroupRule>(NT.SecurityGroupRule, id)));
    const naming = await op.t.tx.find<NSecurityGroupRule>(IX.rulesByRemoteGroup, indexKey(sg.id));
    const rules = new Map([...own, ...naming].filter((r) => r !== null).map((r) => [r.id, r]));
    for (const r of rules.values()) await removeRule(op, r);
    await op.t.tx.delete(NT.SecurityGroup, sg.id);
    await deleteSecurityGroup(op.t, sg);
  },
};

export const securityGroupRules: Handler<NSecurityGroupRule> = {
  resource: 'security_group_rule',
  type: NT.SecurityGroupRule,
  create: (op, input) => addRule(op, input, !op.trusted),
  async update(op, old, input) {
    const r = merged(op, old, input);
    await op.t.tx.update(NT.SecurityGroupRule, r);
    return r;
  },
  remove: removeRule,
};

