import type { PacketContext } from './context.ts';
import { conditionMatches, type SimRule } from './condition.ts';
import { forwardNat, reverseNat } from './nat.ts';

/** What a chain decides. Continue/Return only ever leave a jumped-to chain. */
export enum Verdict {
  Accept,
  Drop,
  Reject,
  Continue,
  Return,
}

function afterNat(rule: SimRule): Verdict {
  if (rule.flowAction === 'accept') return Verdict.Accept;
  if (rule.flowAction === 'return') return Verdict.Return;
  return Verdict.Continue;
}

/** Evaluates rules in order until one decides; a jump to a chain already on the path continues. */
function run(ctx: PacketContext, chainId: string, path: string[]): Verdict {
  const chain = ctx.topology.chain(chainId);
  ctx.tag(chain.tag);
  ctx.log('chain', chain.id, 'enter', chain.name);
  const rules = chain.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!conditionMatches(ctx, rule)) continue;
    let v: Verdict;
    switch (rule.type) {
      case 'accept':
        v = Verdict.Accept;
        break;
      case 'drop':
        v = Verdict.Drop;
        break;
      case 'reject':
        v = Verdict.Reject;
        break;
      case 'return':
        v = Verdict.Return;
        break;
      case 'jump': {
        const target = rule.jumpChainId!;
        if (path.includes(target)) {
          if (ctx.trace) ctx.log('rule', rule.id, `jump to ${target} would loop: continue`);
          continue;
        }
        if (ctx.trace) ctx.log('rule', rule.id, `jump to ${target}`);
        path.push(target);
        const inner = run(ctx, target, path);
        path.pop();
        if (inner === Verdict.Accept || inner === Verdict.Drop || inner === Verdict.Reject) return inner;
        continue;
      }
      case 'snat':
      case 'dnat':
        if (!forwardNat(ctx, rule, rule.type)) return Verdict.Drop;
        v = afterNat(rule);
        break;
      case 'rev_snat':
        reverseNat(ctx, rule, 'snat');
        v = afterNat(rule);
        break;
      case 'rev_dnat':
        reverseNat(ctx, rule, 'dnat');
        v = afterNat(rule);
        break;
      default:
        // l2_transform and trace rules do not change forwarding here.
        v = Verdict.Continue;
    }
    if (ctx.trace) ctx.log('rule', rule.id, `${rule.type} -> ${Verdict[v]}`);
    if (v !== Verdict.Continue) return v;
  }
  return Verdict.Continue;
}

/** A device or port filter: runs the chain (if any) and says accept, drop or reject. */
export function filter(ctx: PacketContext, chainId: string | null): Verdict.Accept | Verdict.Drop | Verdict.Reject {
  if (!chainId) return Verdict.Accept;
  // The jump path is a stack on the context: no array per chain run.
  const path = ctx.chainPath;
  const depth = path.length;
  path.push(chainId);
  const v = run(ctx, chainId, path);
  path.length = depth;
  return v === Verdict.Drop || v === Verdict.Reject ? v : Verdict.Accept;
}
