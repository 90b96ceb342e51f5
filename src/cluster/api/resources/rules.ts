import { randomUUID } from 'node:crypto';
import { T, type Chain, type Condition, type Rule } from '../../../model/types.ts';
import { bool, int, ip, mac, obj, objs, oneOf, str, uuid, uuids, type Fields } from '../../../model/validation.ts';
import { badRequest, validationError } from '../errors.ts';
import type { Ctx, Route as ApiRoute } from '../http.ts';
import { deleteEndpoint, getEndpoint, link, postEndpoint, readBody } from './common.ts';

const RULE = { name: 'Rule', versions: [2] };

const range = () => obj({ start: int({ min: 0, max: 65535, required: true }), end: int({ min: 0, max: 65535, required: true }) });
const MASK = { t: 'str' as const, pattern: /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/, patternText: 'is an invalid MAC mask format' };

/** MidoNet's Condition, field for field. */
export const conditionFields: Fields = {
  condInvert: bool(), matchForwardFlow: bool(), matchReturnFlow: bool(),
  inPorts: uuids(), invInPorts: bool(), outPorts: uuids(), invOutPorts: bool(),
  portGroup: uuid(), invPortGroup: bool(), inPortGroup: uuid(), invInPortGroup: bool(), outPortGroup: uuid(), invOutPortGroup: bool(),
  ipAddrGroupSrc: uuid(), invIpAddrGroupSrc: bool(), ipAddrGroupDst: uuid(), invIpAddrGroupDst: bool(),
  traversedDevice: uuid(), invTraversedDevice: bool(),
  noVlan: bool(), vlan: int({ min: 0, max: 4095 }),
  dlType: int({ min: 0x600, max: 0xffff }), invDlType: bool(),
  dlSrc: mac(), dlSrcMask: MASK, invDlSrc: bool(), dlDst: mac(), dlDstMask: MASK, invDlDst: bool(),
  nwTos: int({ min: 0, max: 255 }), invNwTos: bool(), nwProto: int({ min: 0, max: 255 }), invNwProto: bool(),
  nwSrcAddress: ip(), nwSrcLength: int({ min: 0, max: 32 }), invNwSrc: bool(),
  nwDstAddress: ip(), nwDstLength: int({ min: 0, max: 32 }), invNwDst: bool(),
  matchNwDstRewritten: bool(),
  fragmentPolicy: oneOf(['any', 'nonheader', 'header', 'unfragmented'], { lower: true }),
  tpSrc: range(), invTpSrc: bool(), tpDst: range(), invTpDst: bool(),
  icmpDataSrcIpAddress: ip(), icmpDataSrcIpLength: int({ min: 0, max: 32 }), invIcmpDataSrcIp: bool(),
  icmpDataDstIpAddress: ip(), icmpDataDstIpLength: int({ min: 0, max: 32 }), invIcmpDataDstIp: bool(),
};

const TYPES = ['accept', 'drop', 'reject', 'return', 'jump', 'dnat', 'snat', 'rev_dnat', 'rev_snat', 'l2_transform', 'trace'] as const;

const ruleFields: Fields = {
  ...conditionFields,
  id: uuid(),
  type: oneOf(TYPES, { required: true }),
  position: int({ min: 1, def: 1 }),
  meterName: str({ max: 255 }),
  jumpChainId: uuid(),
  jumpChainName: str(),
  flowAction: oneOf(['accept', 'continue', 'return', 'redirect'], { lower: true }),
  natTargets: objs({
    addressFrom: ip(true), addressTo: ip(true),
    portFrom: int({ min: 0, max: 65535, def: 0 }), portTo: int({ min: 0, max: 65535, def: 0 }),
  }),
  popVlan: bool(), pushVlan: int({ min: 0, max: 0xffff }), targetPortId: uuid(), ingress: bool(), failOpen: bool(),
  requestId: uuid(), limit: int({ min: 0 }),
};

const TYPE_FIELDS: Record<string, readonly (keyof Rule)[]> = {
  jump: ['jumpChainId', 'jumpChainName'],
  dnat: ['flowAction', 'natTargets'],
  snat: ['flowAction', 'natTargets'],
  rev_dnat: ['flowAction'],
  rev_snat: ['flowAction'],
  l2_transform: ['flowAction', 'popVlan', 'pushVlan', 'targetPortId', 'ingress', 'failOpen'],
  trace: ['requestId', 'limit'],
};

const hasL4 = (c: Pick<Condition, 'tpSrc' | 'tpDst'>) => c.tpSrc !== null || c.tpDst !== null;

/** Type-specific requirements and MidoNet's fragment-policy defaults and checks. */
function checkRule(rule: Rule): void {
  const missing = (property: string) => ({ property, message: 'may not be null' });
  const v = [];
  if (rule.type === 'jump' && !rule.jumpChainId) v.push(missing('jumpChainId'));
  if (['dnat', 'snat', 'rev_dnat', 'rev_snat'].includes(rule.type) && !rule.flowAction) v.push(missing('flowAction'));
  if ((rule.type === 'dnat' || rule.type === 'snat') && (!rule.natTargets || rule.natTargets.length === 0)) v.push(missing('natTargets'));
  if (rule.type === 'trace' && !rule.requestId) v.push(missing('requestId'));
  for (const r of [rule.tpSrc, rule.tpDst]) if (r && r.start > r.end) v.push({ property: r === rule.tpSrc ? 'tpSrc' : 'tpDst', message: 'start must not exceed end' });
  if (v.length > 0) throw validationError(v);
  if (rule.flowAction === 'redirect' && rule.type !== 'l2_transform') throw badRequest('flowAction redirect is only valid for l2_transform rules');
  const nat = rule.type === 'dnat' || rule.type === 'snat';
  if (rule.fragmentPolicy === null) {
    const targets = rule.natTargets ?? [];
    const floating = targets.length === 1 && targets[0]!.addressFrom === targets[0]!.addressTo && targets[0]!.portFrom === 0 && targets[0]!.portTo === 0;
    rule.fragmentPolicy = hasL4(rule) ? 'header' : nat && !floating ? 'unfragmented' : 'any';
  }
  if (hasL4(rule) && (rule.fragmentPolicy === 'any' || rule.fragmentPolicy === 'nonheader')) {
    throw badRequest(`fragmentPolicy ${rule.fragmentPolicy} cannot be used with transport port conditions`);
  }
}

function renderRule(ctx: Ctx, r: Rule, position: number) {
  const dto: Record<string, unknown> = { id: r.id, chainId: r.chainId, position, type: r.type, meterName: r.meterName };
  for (const k of Object.keys(conditionFields)) dto[k] = r[k as keyof Rule];
  for (const k of TYPE_FIELDS[r.type] ?? []) dto[k] = r[k];
  dto.uri = link(ctx, 'rules', r.id);
  dto.chain = link(ctx, 'chains', r.chainId);
  return dto;
}

export function ruleRoutes(): ApiRoute[] {
  return [
    {
      path: '/chains/:id/rules',
      get: getEndpoint(RULE, 'list', async (ctx) => {
        const c = await ctx.store.get<Chain>(T.Chain, ctx.params.id!);
        const rules = await Promise.all(c.ruleIds.map((id) => ctx.store.tryGet<Rule>(T.Rule, id)));
        return rules.flatMap((r, i) => (r ? [renderRule(ctx, r, i + 1)] : []));
      }),
      post: postEndpoint(RULE, async (ctx) => {
        const v = readBody(ctx, ruleFields);
        const chainId = ctx.params.id!;
        const { position, ...fields } = v;
        const rule = { ...fields, id: (v.id as string | null) ?? randomUUID(), chainId } as unknown as Rule;
        // Fields of other rule types are not stored: an accept rule has no natTargets.
        const own = new Set<string>(TYPE_FIELDS[rule.type] ?? []);
        for (const k of new Set(Object.values(TYPE_FIELDS).flat())) {
          if (!own.has(k)) (rule as unknown as Record<string, unknown>)[k] = ruleFields[k]!.t === 'bool' ? false : null;
        }
        checkRule(rule);
        await ctx.store.tx(async (tx) => {
          const chain = await tx.get<Chain>(T.Chain, chainId);
          const pos = position as number;
          if (pos > chain.ruleIds.length + 1) throw badRequest(`Invalid rule position ${pos}: the chain has ${chain.ruleIds.length} rules`);
          if (rule.jumpChainId) rule.jumpChainName = (await tx.get<Chain>(T.Chain, rule.jumpChainId)).name;
          await tx.create(T.Rule, rule);
          const after = await tx.get<Chain>(T.Chain, chainId);
          const ids = after.ruleIds.filter((id) => id !== rule.id);
          ids.splice(pos - 1, 0, rule.id);
          await tx.update(T.Chain, { ...after, ruleIds: ids });
        });
        return link(ctx, 'rules', rule.id)!;
      }),
    },
    {
      path: '/rules/:id',
      get: getEndpoint(RULE, 'get', async (ctx) => {
        const r = await ctx.store.get<Rule>(T.Rule, ctx.params.id!);
        const chain = await ctx.store.tryGet<Chain>(T.Chain, r.chainId);
        return renderRule(ctx, r, (chain?.ruleIds.indexOf(r.id) ?? 0) + 1);
      }),
      delete: deleteEndpoint(async (ctx) => ctx.store.tx((tx) => tx.delete(T.Rule, ctx.params.id!))),
    },
  ];
}
