import type { Store } from '../../nsdb/store.ts';
import { T } from '../../model/types.ts';
import { isUuid } from '../../model/net.ts';
import { readAttributes } from './attributes.ts';
import { NOT_FOUND } from './errors.ts';
import { isNetworkOwned, NT, type NFloatingIp, type NPort, type NSecurityGroup, type NSecurityGroupRule, type Standard } from '../../model/neutron.ts';
import { timestamp, type Handler, type Op } from './resources/common.ts';
import { checkQuota } from './quotas.ts';
import { checkAccess, checkBody, referencesOf, visible, type Caller } from './policy.ts';
import { floatingIps } from './resources/floating-ips.ts';
import { networks } from './resources/networks.ts';
import { ports } from './resources/ports.ts';
import { addInterface, removeInterface, routers, type RouterInterfaceInfo } from './resources/routers.ts';
import { defaultGroup, securityGroupRules, securityGroups } from './resources/security-groups.ts';
import { subnetPools } from './resources/subnet-pools.ts';
import { subnets } from './resources/subnets.ts';
import { Translation } from './translation/context.ts';

export const HANDLERS: Record<string, Handler> = Object.fromEntries(
  [networks, subnets, ports, routers, floatingIps, securityGroups, securityGroupRules, subnetPools].map((h) => [h.resource, h as unknown as Handler]),
);

export type Resource = keyof typeof HANDLERS;

export type Json = Record<string, unknown>;

/** Who writes: the project a new object belongs to, whether as the admin, and whether it is the MidoNet plugin's front. */
export interface Writer extends Caller {
  trusted: boolean;
}

/**
 * The Neutron API's one implementation, behind both fronts: each write checks its input, stores
 * the Neutron object, its MidoNet translation and the bridge table entries in one NSDB transaction.
 */
export class NeutronService {
  constructor(private readonly store: Store) {}

  /** One write: one transaction, run again if it loses a race with another writer. */
  private run<R>(who: Writer, body: (op: Op) => Promise<R>): Promise<R> {
    return this.store.tx((tx) => body({ t: new Translation(tx, this.store), tenant: who.tenant, trusted: who.trusted, now: timestamp() }));
  }

  private handler(resource: string): Handler {
    const h = HANDLERS[resource];
    if (!h) throw new Error(`unknown Neutron resource ${resource}`);
    return h;
  }

  /** The object a caller asks for, within the transaction: 404 unless it may see it, 403 unless it owns it when it must. */
  private async reach(op: Op, resource: string, id: string, need: 'own' | 'see', who: Caller): Promise<Standard> {
    // Ids are UUIDs: anything else names nothing (and never reaches the store as a key).
    const o = isUuid(id) ? await op.t.tx.tryGet<Standard>(this.handler(resource).type, id) : null;
    checkAccess(resource, id, o as Json | null, need, who);
    if (!o) throw NOT_FOUND[resource]!(id);
    return o;
  }

  /** The caller's body rights (policy.ts) and the objects the body points at. */
  private async checkInput(op: Op, resource: string, action: 'create' | 'update', input: Json, who: Caller): Promise<void> {
    checkBody(resource, action, input, who);
    if (who.admin) return;
    for (const [res, id, need] of referencesOf(resource, input)) await this.reach(op, res, id, need, who);
  }

  async create(resource: string, bodies: unknown[], who: Writer): Promise<Json[]> {
    const h = this.handler(resource);
    const inputs = bodies.map((b) => readAttributes(resource, b, 'post', who.trusted));
    const made = await this.run(who, async (op) => {
      const out: Standard[] = [];
      for (const input of inputs) {
        await this.checkInput(op, resource, 'create', input, who);
        // Behind the plugin's front Neutron has counted already.
        if (!who.trusted) await checkQuota(op.t.tx, resource, (input.tenant_id ?? input.project_id ?? who.tenant) as string);
        out.push(await h.create(op, input));
      }
      return out;
    });
    return this.renderAll(resource, made);
  }

  async update(resource: string, id: string, body: unknown, who: Writer): Promise<Json> {
    const h = this.handler(resource);
    const input = readAttributes(resource, body, 'put', who.trusted);
    const obj = await this.run(who, async (op) => {
      const old = await this.reach(op, resource, id, 'own', who);
      await this.checkInput(op, resource, 'update', input, who);
      return h.update(op, old, input);
    });
    return (await this.renderAll(resource, [obj]))[0]!;
  }

  async remove(resource: string, id: string, who: Writer): Promise<void> {
    const h = this.handler(resource);
    await this.run(who, async (op) => h.remove(op, await this.reach(op, resource, id, 'own', who)));
  }

  async get(resource: string, id: string, who: Caller): Promise<Json> {
    const obj = await this.store.tryGet<Standard>(this.handler(resource).type, id);
    if (!obj || !visible(resource, obj as unknown as Json, who)) throw NOT_FOUND[resource]!(id);
    return (await this.renderAll(resource, [obj]))[0]!;
  }

  async list(resource: string, who: Caller): Promise<Json[]> {
    // As Neutron: a project that looks at its groups has its default one (made on first sight).
    if (resource === 'security_group' && who.tenant && !('trusted' in who && who.trusted)) {
      await this.run({ ...who, trusted: false }, async (op) => void (await defaultGroup(op, who.tenant)));
    }
    const all = await this.store.getAll<Standard>(this.handler(resource).type);
    return this.renderAll(resource, all.filter((o) => visible(resource, o as unknown as Json, who)));
  }

  /** Replaces an object's tags with what `change` makes of them (standard-attr-tag). */
  async retag(resource: string, id: string, change: (tags: string[]) => string[], who: Writer): Promise<string[]> {
    const h = this.handler(resource);
    return this.run(who, async (op) => {
      const old = await this.reach(op, resource, id, 'own', who);
      const tags = [...new Set(change(old.tags))].sort();
      await op.t.tx.update(h.type, { ...old, tags, updated_at: op.now, revision_number: old.revision_number + 1 });
      return tags;
    });
  }

  addRouterInterface(routerId: string, body: unknown, who: Writer): Promise<RouterInterfaceInfo> {
    return this.run(who, async (op) => {
      await this.checkInterface(op, routerId, interfaceBody(body), who);
      return addInterface(op, routerId, interfaceBody(body));
    });
  }

  removeRouterInterface(routerId: string, body: unknown, who: Writer): Promise<RouterInterfaceInfo> {
    return this.run(who, async (op) => {
      await this.checkInterface(op, routerId, interfaceBody(body), who);
      return removeInterface(op, routerId, interfaceBody(body));
    });
  }

  /** A router interface is the router owner's business, on its own subnet or port. */
  private async checkInterface(op: Op, routerId: string, body: Json, who: Caller): Promise<void> {
    if (who.admin) return;
    await this.reach(op, 'router', routerId, 'own', who);
    if (typeof body.subnet_id === 'string') await this.reach(op, 'subnet', body.subnet_id, 'own', who);
    if (typeof body.port_id === 'string') await this.reach(op, 'port', body.port_id, 'own', who);
  }

  /** Objects as Neutron shows them: a group with its rules, a port with MidoNet's view of its status. */
  private async renderAll(resource: string, objs: Standard[]): Promise<Json[]> {
    if (resource === 'security_group') {
      return Promise.all((objs as NSecurityGroup[]).map(async (g) => {
        const rules = await Promise.all(g.security_group_rules.map((id) => this.store.tryGet<NSecurityGroupRule>(NT.SecurityGroupRule, id)));
        return { ...g, security_group_rules: rules.filter((r) => r !== null) };
      }));
    }
    if (resource === 'port') {
      return Promise.all((objs as NPort[]).map(async (p) => ({ ...p, status: await this.portStatus(p) })));
    }
    if (resource === 'floatingip') {
      return (objs as NFloatingIp[]).map(({ floating_port_id: _internal, ...shown }) => shown as unknown as Json);
    }
    return objs as unknown as Json[];
  }

  /** ACTIVE once an agent has bound the port (Neutron's own ports are always ACTIVE). */
  private async portStatus(p: NPort): Promise<string> {
    if (isNetworkOwned(p)) return 'ACTIVE';
    return (await this.store.getState({ type: T.Port, id: p.id, key: 'active' })) !== null ? 'ACTIVE' : 'DOWN';
  }
}

function interfaceBody(body: unknown): Json {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : {};
}
