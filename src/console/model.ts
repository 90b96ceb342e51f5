import type { TopologyMessage } from '../model/topology-protocol.ts';

/**
 * What the console knows of the topology: objects by type and id, and their state keys, as the
 * topology stream delivers them. Listeners hear of changes once per animation frame.
 */
export class Model {
  private readonly objects = new Map<string, Map<string, unknown>>();
  private readonly states = new Map<string, string | null>();
  private readonly listeners: (() => void)[] = [];
  private scheduled = false;
  /** Objects seen for the first time since the last call (their state keys are followed then). */
  readonly arrived: { type: string; id: string }[] = [];

  all<T>(type: string): T[] {
    return [...(this.objects.get(type)?.values() ?? [])] as T[];
  }

  get<T>(type: string, id: string | null | undefined): T | undefined {
    return id ? (this.objects.get(type)?.get(id) as T | undefined) : undefined;
  }

  state(type: string, id: string, key: string): string | null {
    return this.states.get(`${type}/${id}/${key}`) ?? null;
  }

  /** Which type holds an id (ports, routers and bridges are told apart by it). */
  typeOf(id: string): string | null {
    for (const [type, m] of this.objects) if (m.has(id)) return type;
    return null;
  }

  /** Forgets everything (the stream reconnected and sends it all again). */
  clear(): void {
    this.objects.clear();
    this.states.clear();
    this.arrived.length = 0;
    this.changed();
  }

  apply(m: TopologyMessage): void {
    if (m.op === 'update') {
      let byId = this.objects.get(m.type);
      if (!byId) this.objects.set(m.type, (byId = new Map()));
      if (!byId.has(m.id)) this.arrived.push({ type: m.type, id: m.id });
      byId.set(m.id, m.value);
    } else if (m.op === 'delete') this.objects.get(m.type)?.delete(m.id);
    else if (m.op === 'state') this.states.set(`${m.type}/${m.id}/${m.key}`, m.value);
    else return;
    this.changed();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    });
  }
}
