import { randomUUID } from 'node:crypto';
import { newChain, newRule } from '../../../model/defaults.ts';
import { T, type Chain, type Rule } from '../../../model/types.ts';
import type { StateKey } from '../../../nsdb/backend.ts';
import type { Store } from '../../../nsdb/store.ts';
import type { Transaction } from '../../../nsdb/transaction.ts';
import { StoreConf } from '../../../conf/conf-store.ts';
import type { Flat } from '../../../conf/hocon.ts';

export type RuleSpec = Partial<Rule> & Pick<Rule, 'type'>;

/**
 * One Neutron write being translated: the NSDB transaction that holds the Neutron object, every
 * MidoNet object derived from it and the bridge table entries it makes.
 */
export class Translation {
  private conf: Promise<Flat> | null = null;

  constructor(
    readonly tx: Transaction,
    private readonly store: Store,
  ) {}

  /** A cluster setting as mn-conf has it now (schema < default template), read once per write. */
  async setting<V>(key: string): Promise<V> {
    this.conf ??= new StoreConf(this.store).runtime(null);
    return (await this.conf)[key] as V;
  }

  tunnelKey(): Promise<number> {
    return this.store.nextTunnelKey();
  }

  /** A bridge table entry, written in the same commit as the objects. */
  setState(key: StateKey, value: string): void {
    this.tx.setState(key, value);
  }

  deleteState(key: StateKey): void {
    this.tx.deleteState(key);
  }

  async ensureChain(id: string, name: string, tenantId: string | null): Promise<void> {
    if (!(await this.tx.exists(T.Chain, id))) await this.tx.create(T.Chain, newChain(id, name, tenantId));
  }

  /** Makes the chain hold exactly these rules, in order (fresh rule ids). */
  async replaceRules(chainId: string, rules: RuleSpec[]): Promise<void> {
    const chain = await this.tx.get<Chain>(T.Chain, chainId);
    for (const id of chain.ruleIds) await this.tx.delete(T.Rule, id, true);
    for (const r of rules) await this.tx.create(T.Rule, newRule(randomUUID(), chainId, r));
  }

  /** Creates or remakes a rule with a known id, at the end of its chain. */
  async putRule(id: string, chainId: string, spec: RuleSpec): Promise<void> {
    await this.tx.delete(T.Rule, id, true);
    await this.tx.create(T.Rule, newRule(id, chainId, spec));
  }
}

/** A NAT target of one address, any port (ports 0..0 keep the flow's own). */
export const natTo = (address: string, portFrom = 0, portTo = 0) => [{ addressFrom: address, addressTo: address, portFrom, portTo }];

export const ETHERTYPE = { ipv4: 0x0800, arp: 0x0806, ipv6: 0x86dd } as const;
