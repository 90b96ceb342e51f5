import { arpTableKey, macTableKey } from '../model/state-keys.ts';
import { T, type Route } from '../model/types.ts';
import type { Store } from '../nsdb/store.ts';
import { NotYet } from '../simulation/context.ts';
import { compileDeps, type MacEntry, type TopologySource } from '../simulation/topology.ts';
import { learnedRoutes } from './topology/learned-routes.ts';

/**
 * Topology objects read from the NSDB as a simulation reaches them (what a trace uses): a device
 * is loaded with what compiling it needs, a bridge with its tables, a router with its learned
 * routes; nothing else is read.
 */
export class StoreSource implements TopologySource {
  private readonly objects = new Map<string, unknown>();
  private readonly arp = new Map<string, Map<string, string>>();
  private readonly macs = new Map<string, MacEntry[]>();
  private readonly learned = new Map<string, Route[]>();
  /** Objects asked for and not loaded yet: the next `loadWanted` reads them together. */
  private readonly wanted = new Map<string, [string, string]>();

  constructor(private readonly store: Store) {}

  object<X>(type: string, id: string): X | null {
    const v = this.objects.get(`${type}/${id}`);
    if (v === undefined) {
      this.wanted.set(`${type}/${id}`, [type, id]);
      throw new NotYet(type, id);
    }
    return v as X | null;
  }

  arpTable(bridge: string): ReadonlyMap<string, string> | undefined {
    return this.arp.get(bridge);
  }

  macTable(bridge: string): readonly MacEntry[] | undefined {
    return this.macs.get(bridge);
  }

  learnedRoutes(router: string): readonly Route[] {
    return this.learned.get(router) ?? [];
  }

  /** Reads the objects asked for and, level by level, what compiling them needs. */
  async loadWanted(): Promise<void> {
    let level = [...this.wanted.values()];
    this.wanted.clear();
    while (level.length > 0) {
      const fresh = level.filter(([t, i]) => !this.objects.has(`${t}/${i}`));
      for (const [t, i] of fresh) this.objects.set(`${t}/${i}`, null);
      const read = await Promise.all(fresh.map(async ([t, i]) => {
        const o = await this.store.tryGet<{ id: string } & Record<string, unknown>>(t, i);
        this.objects.set(`${t}/${i}`, o);
        if (o && t === T.Network) await this.loadTables(i);
        if (o && t === T.Router) this.learned.set(i, await learnedRoutes(this.store, i));
        return o ? compileDeps(t, o) : [];
      }));
      level = read.flat();
    }
  }

  private async loadTables(bridge: string): Promise<void> {
    this.arp.set(bridge, new Map(await this.store.stateDir(arpTableKey(bridge))));
    const entries: MacEntry[] = [];
    for (const vlan of await this.store.listState({ type: T.Network, id: bridge, key: 'mac_table' })) {
      for (const [e] of await this.store.stateDir(macTableKey(bridge, Number(vlan), ''))) {
        const [mac, port] = e.split('_');
        if (mac && port) entries.push({ vlan: Number(vlan), mac, port });
      }
    }
    this.macs.set(bridge, entries);
  }
}
