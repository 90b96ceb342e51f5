import { arpTableKey, macTableKey } from '../model/state-keys.ts';
import { T, type Route } from '../model/types.ts';
import type { Store } from '../nsdb/store.ts';
import { NotYet } from '../simulation/context.ts';
import { compileDeps, type MacEntry, type TopologySource } from '../simulation/topology.ts';
import { learnedRoutes } from './topology/learned-routes.ts';

type Wanted = { kind: 'object'; type: string; id: string } | { kind: 'arp'; bridge: string; ip: string } | { kind: 'mac'; bridge: string; vlan: number; mac: string };

/**
 * Topology objects read from the NSDB as a simulation reaches them (what a trace uses): a device
 * is loaded with what compiling it needs, a router with its learned routes, a bridge's ARP and MAC
 * table entries one by one as the packet asks for them; nothing else is read.
 */
export class StoreSource implements TopologySource {
  private readonly objects = new Map<string, unknown>();
  private readonly entries = new Map<string, string | null>();
  private readonly learned = new Map<string, Route[]>();
  /** What was asked for and is not loaded yet: the next `loadWanted` reads it all together. */
  private readonly wanted = new Map<string, Wanted>();

  constructor(private readonly store: Store) {}

  object<X>(type: string, id: string): X | null {
    const v = this.objects.get(`${type}/${id}`);
    if (v === undefined) this.want(`${type}/${id}`, { kind: 'object', type, id }, type, id);
    return v as X | null;
  }

  private want(k: string, w: Wanted, type: string, id: string): never {
    this.wanted.set(k, w);
    throw new NotYet(type, id);
  }

  private entry(k: string, w: Wanted, what: string): string | null {
    const v = this.entries.get(k);
    if (v === undefined) this.want(k, w, what, k);
    return v;
  }

  arpTable(): undefined {
    return undefined;
  }

  macTable(): readonly MacEntry[] | undefined {
    return undefined;
  }

  arpEntry(bridge: string, ip: string): string | null {
    return this.entry(`arp/${bridge}/${ip}`, { kind: 'arp', bridge, ip }, 'ArpEntry');
  }

  macEntry(bridge: string, vlan: number, mac: string): string | null {
    return this.entry(`mac/${bridge}/${vlan}/${mac}`, { kind: 'mac', bridge, vlan, mac }, 'MacEntry');
  }

  learnedRoutes(router: string): readonly Route[] {
    return this.learned.get(router) ?? [];
  }

  /** Reads what was asked for and, level by level, what compiling it needs. */
  async loadWanted(): Promise<void> {
    let level = [...this.wanted.values()];
    this.wanted.clear();
    while (level.length > 0) {
      const next = await Promise.all(level.map((w) => this.load(w)));
      level = next.flat();
    }
  }

  private async load(w: Wanted): Promise<Wanted[]> {
    if (w.kind === 'arp') {
      this.entries.set(`arp/${w.bridge}/${w.ip}`, await this.store.getState(arpTableKey(w.bridge, w.ip)));
      return [];
    }
    if (w.kind === 'mac') {
      // Entries are named <mac>_<port>: the one for this MAC, whichever port.
      const [hit] = await this.store.stateDir(macTableKey(w.bridge, w.vlan, ''), `${w.mac}_`);
      this.entries.set(`mac/${w.bridge}/${w.vlan}/${w.mac}`, hit ? hit[0].slice(w.mac.length + 1) : null);
      return [];
    }
    const k = `${w.type}/${w.id}`;
    if (this.objects.has(k)) return [];
    this.objects.set(k, null);
    const o = await this.store.tryGet<{ id: string } & Record<string, unknown>>(w.type, w.id);
    this.objects.set(k, o);
    if (!o) return [];
    if (w.type === T.Router) this.learned.set(w.id, await learnedRoutes(this.store, w.id));
    return compileDeps(w.type, o).map(([type, id]) => ({ kind: 'object', type, id }));
  }
}
