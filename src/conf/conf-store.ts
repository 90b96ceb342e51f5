import type { Store } from '../nsdb/store.ts';
import type { Flat } from './hocon.ts';
import { SCHEMA, TEMPLATES } from './schema.ts';

/** Where a configuration document lives: MidoNet's schema < templates < per-host node config. */
export type ConfKind = 'schema' | 'template' | 'node';

/** What mn-conf and the /conf REST resource need, over the NSDB or over HTTP. */
export interface ConfAccess {
  get(kind: ConfKind, name: string): Promise<Flat>;
  /** Merges values in (after clearing the document when `clear`). */
  set(kind: Exclude<ConfKind, 'schema'>, name: string, values: Flat, clear: boolean): Promise<void>;
  unset(kind: Exclude<ConfKind, 'schema'>, name: string, key: string): Promise<void>;
  templates(): Promise<string[]>;
  mappings(): Promise<Record<string, string>>;
  setMapping(host: string, template: string | null): Promise<void>;
  /** What a host runs with: schema, then `default`, then its template, then its own config. */
  runtime(host: string | null): Promise<Flat>;
}

const TYPE = 'Config';
const docId = (kind: ConfKind, name: string) => `${kind}:${name}`;

export function schemaDefaults(): Flat {
  return Object.fromEntries(Object.entries(SCHEMA).map(([k, v]) => [k, v.value]));
}

/** Configuration kept in the NSDB as Config objects (one per template, per host, and the mappings). */
export class StoreConf implements ConfAccess {
  constructor(private readonly store: Store) {}

  async get(kind: ConfKind, name: string): Promise<Flat> {
    if (kind === 'schema') return schemaDefaults();
    const stored = await this.store.tryGet<{ id: string; values: Flat }>(TYPE, docId(kind, name));
    if (stored) return stored.values;
    return kind === 'template' ? { ...(TEMPLATES[name] ?? {}) } : {};
  }

  private async write(kind: ConfKind, name: string, edit: (values: Flat) => Flat): Promise<void> {
    await this.store.tx(async (tx) => {
      const id = docId(kind, name);
      const cur = await tx.tryGet<{ id: string; values: Flat }>(TYPE, id);
      const base = cur ? cur.values : kind === 'template' ? { ...(TEMPLATES[name] ?? {}) } : {};
      const doc = { id, values: edit(base) };
      if (cur) await tx.update(TYPE, doc);
      else await tx.create(TYPE, doc);
    });
  }

  set(kind: 'template' | 'node', name: string, values: Flat, clear: boolean): Promise<void> {
    return this.write(kind, name, (cur) => ({ ...(clear ? {} : cur), ...values }));
  }

  unset(kind: 'template' | 'node', name: string, key: string): Promise<void> {
    return this.write(kind, name, (cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => k !== key && !k.startsWith(`${key}.`))));
  }

  async templates(): Promise<string[]> {
    const stored = (await this.store.getAll<{ id: string }>(TYPE)).filter((d) => d.id.startsWith('template:')).map((d) => d.id.slice('template:'.length));
    return [...new Set([...Object.keys(TEMPLATES), ...stored])].sort();
  }

  async mappings(): Promise<Record<string, string>> {
    return ((await this.store.tryGet<{ id: string; values: Record<string, string> }>(TYPE, 'mappings'))?.values ?? {});
  }

  async setMapping(host: string, template: string | null): Promise<void> {
    await this.store.tx(async (tx) => {
      const cur = await tx.tryGet<{ id: string; values: Record<string, string> }>(TYPE, 'mappings');
      const values = { ...(cur?.values ?? {}) };
      if (template === null) delete values[host];
      else values[host] = template;
      if (cur) await tx.update(TYPE, { id: 'mappings', values });
      else await tx.create(TYPE, { id: 'mappings', values });
    });
  }

  async runtime(host: string | null): Promise<Flat> {
    const template = host ? (await this.mappings())[host] : undefined;
    return {
      ...schemaDefaults(),
      ...(await this.get('template', 'default')),
      ...(template && template !== 'default' ? await this.get('template', template) : {}),
      ...(host ? await this.get('node', host) : {}),
    };
  }
}
