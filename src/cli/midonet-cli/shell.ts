import type { ApiClient, Dto } from './client.ts';
import { ROOT_TYPES, typeFor, TYPES, type CliField, type CliType } from './types.ts';

/** A mistake in what was typed: printed as one line, the session goes on. */
export class CliError extends Error {}

const VERBS: Record<string, string> = {
  list: 'list', l: 'list', ls: 'list', show: 'show', s: 'show', create: 'create', add: 'create',
  set: 'set', clear: 'clear', delete: 'delete', del: 'delete', rm: 'delete', describe: 'describe', desc: 'describe',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Node {
  type: CliType;
  dto: Dto;
}

/** Splits a command line like a shell: quotes group words. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/**
 * MidoNet CLI sessions: the grammar (`router router0 add bgp-peer asn 64513 ...`), aliases per
 * namespace (router0, router0:port0, tzone0 ...) given as objects are listed or created, and the
 * one-line output format. Aliases are accepted in input always; output shows them when
 * interactive and UUIDs otherwise, as MidoNet's CLI does.
 */
export class Session {
  /** namespace ("" or the parent's URI) + type -> ids in alias order. */
  private readonly names = new Map<string, string[]>();
  /** id -> the alias path shown for it (router0, router0:port0). */
  private readonly shown = new Map<string, string>();
  tenant: string | null = null;
  /** --json: objects printed as their API JSON, one per line, for scripts. */
  json = false;

  constructor(
    private readonly api: ApiClient,
    private readonly root: Dto,
    readonly interactive: boolean,
  ) {}

  private nsKey(parent: Node | null, type: CliType): string {
    return `${parent ? String(parent.dto.uri) : ''}|${type.name}`;
  }

  private idOf(type: CliType, d: Dto): string {
    return type.key ? type.key(d) : String(d.id);
  }

  /** The alias of an object in its namespace, given on first sight. */
  private alias(parent: Node | null, type: CliType, d: Dto): string {
    const key = this.nsKey(parent, type);
    const ids = this.names.get(key) ?? [];
    const id = this.idOf(type, d);
    let n = ids.indexOf(id);
    if (n < 0) {
      ids.push(id);
      this.names.set(key, ids);
      n = ids.length - 1;
    }
    const own = `${type.alias}${n}`;
    // Members and bindings are named by the host or port they hold: not references themselves.
    if (!type.namedByParent) this.shown.set(id, parent ? `${this.shown.get(this.idOf(parent.type, parent.dto)) ?? ''}:${own}` : own);
    return own;
  }

  private display(parent: Node | null, type: CliType, d: Dto): string {
    const own = this.alias(parent, type, d);
    if (!this.interactive) return this.idOf(type, d);
    return own;
  }

  private async listOf(parent: Node | null, type: CliType): Promise<Dto[]> {
    const items = await this.api.list(type.collection(parent?.dto ?? null, this.root), type.listMedia);
    for (const d of items) this.alias(parent, type, d);
    return items;
  }

  /** Finds an object of `type` under `parent` by alias or id (listing the collection if needed). */
  private async find(parent: Node | null, type: CliType, token: string): Promise<Node | null> {
    const aliasForm = new RegExp(`^${type.alias}(\\d+)$`).exec(token);
    if (!aliasForm && !UUID.test(token) && !type.key) return null;
    // Listing first gives aliases to what this session has not seen yet.
    const items = await this.listOf(parent, type);
    const id = aliasForm ? this.names.get(this.nsKey(parent, type))?.[Number(aliasForm[1])] : token;
    const d = items.find((x) => this.idOf(type, x) === id);
    return d ? { type, dto: d } : null;
  }

  /** A reference typed as an alias ("host0", "router0:port0") or a UUID, to an id. */
  private async resolveRef(typeName: string, token: string, path: Node[]): Promise<string> {
    if (UUID.test(token)) return token.toLowerCase();
    const type = TYPES[typeName]!;
    const parts = token.split(':');
    if (parts.length === 2) {
      const owner = ROOT_TYPES.map((t) => TYPES[t]!).find((t) => parts[0]!.startsWith(t.alias));
      const parent = owner ? await this.find(null, owner, parts[0]!) : null;
      const hit = parent ? await this.find(parent, type, parts[1]!) : null;
      if (hit) return this.idOf(type, hit.dto);
    } else {
      const scopes: (Node | null)[] = [...path.slice().reverse(), null];
      for (const scope of scopes) {
        if (scope && !scope.type.children.includes(typeName)) continue;
        if (!scope && !ROOT_TYPES.includes(typeName)) continue;
        const hit = await this.find(scope, type, token);
        if (hit) return this.idOf(type, hit.dto);
      }
    }
    throw new CliError(`Unknown ${typeName} ${token}`);
  }

  private childTypes(parent: Node | null): string[] {
    return parent ? parent.type.children : ROOT_TYPES;
  }

  private fieldOf(type: CliType, name: string): CliField {
    const f = type.fields.find((x) => x.name === name);
    if (!f) throw new CliError(`${type.name} has no field ${name} (fields: ${type.fields.map((x) => x.name).join(', ')})`);
    return f;
  }

  private async applyFields(type: CliType, d: Dto, words: string[], path: Node[]): Promise<void> {
    if (words.length % 2 !== 0) throw new CliError(`Missing value for ${words.at(-1)}`);
    for (let i = 0; i < words.length; i += 2) {
      const f = this.fieldOf(type, words[i]!);
      if (!f.set || f.readOnly) throw new CliError(`${f.name} cannot be set`);
      let raw = words[i + 1]!;
      if (f.inv) {
        d[f.inv] = raw.startsWith('!');
        if (raw.startsWith('!')) raw = raw.slice(1);
      }
      const value = !f.ref ? raw : f.list ? (await Promise.all(raw.split(',').filter(Boolean).map((r) => this.resolveRef(f.ref!, r, path)))).join(',') : await this.resolveRef(f.ref, raw, path);
      try {
        f.set(d, value);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    }
  }

  /** One line for an object: "<label> <alias> <field> <value> ...", unset fields left out. */
  private line(parent: Node | null, type: CliType, d: Dto): string {
    if (this.json) {
      this.alias(parent, type, d);
      return JSON.stringify(d);
    }
    const words = [type.label, type.namedByParent && parent ? this.refShown(this.idOf(parent.type, parent.dto)) : this.display(parent, type, d)];
    for (const f of type.fields) {
      if (f.name === 'device' && parent) {
        words.push('device', this.refShown(this.idOf(parent.type, parent.dto)));
        continue;
      }
      const v = f.get(d);
      if (v === null) continue;
      words.push(f.name, f.ref ? this.refsShown(v) : v);
    }
    return words.join(' ');
  }

  /** Ids in a printed field ("!id", "id,id") as aliases. */
  private refsShown(v: string): string {
    const neg = v.startsWith('!');
    return `${neg ? '!' : ''}${(neg ? v.slice(1) : v).split(',').map((id) => this.refShown(id)).join(',')}`;
  }

  private refShown(id: string): string {
    return this.interactive ? (this.shown.get(id) ?? id) : id;
  }

  /** Every alias given so far (for tab completion). */
  knownAliases(): string[] {
    const out: string[] = [];
    for (const [key, ids] of this.names) {
      const type = TYPES[key.slice(key.lastIndexOf('|') + 1)];
      if (type) ids.forEach((_, n) => out.push(`${type.alias}${n}`));
    }
    return [...new Set([...out, ...this.shown.values()])];
  }

  /** Runs one command line; returns the lines to print. */
  async run(line: string): Promise<string[]> {
    const words = splitWords(line);
    if (words.length === 0) return [];
    if (words[0] === 'sett') {
      this.tenant = words[1] ?? null;
      return [];
    }
    if (words[0] === 'cleart') {
      this.tenant = null;
      return [];
    }
    if (words[0] === 'help') return ['verbs: list show create|add set clear delete describe; objects: ' + ROOT_TYPES.join(' ')];
    const path: Node[] = [];
    let verb: string | null = null;
    let target: CliType | null = null;
    let i = 0;
    while (i < words.length) {
      const w = words[i]!;
      const parent = path.at(-1) ?? null;
      if (VERBS[w] && !verb) {
        verb = VERBS[w]!;
        i++;
        if (verb === 'set' || verb === 'clear') break;
        continue;
      }
      const typeKey: string | null = target ? null : typeFor(this.childTypes(parent), w);
      if (typeKey) {
        const type: CliType = TYPES[typeKey]!;
        const next = words[i + 1];
        const obj = next !== undefined && !VERBS[next] && !verb ? await this.find(parent, type, next) : null;
        if (obj) {
          path.push(obj);
          i += 2;
        } else if (next !== undefined && !VERBS[next] && !verb && (new RegExp(`^${type.alias}\\d+$`).test(next) || UUID.test(next))) {
          throw new CliError(`Unknown ${type.name} ${next}`);
        } else {
          target = type;
          i++;
          if (verb === 'create') break;
        }
        continue;
      }
      if (verb === 'create' && target) break;
      throw new CliError(`Unknown object or command: ${w}`);
    }
    const rest = words.slice(i);
    const parent = path.at(-1) ?? null;
    const grand = path.at(-2) ?? null;
    switch (verb) {
      case 'list': {
        if (!target) throw new CliError('list what?');
        return (await this.listOf(parent, target)).map((d) => this.line(parent, target!, d));
      }
      case 'create': {
        if (!target) throw new CliError('create what?');
        const body: Dto = { ...(target.createDefaults?.(parent?.dto ?? null) ?? {}) };
        if (this.tenant && target.fields.some((f) => f.name === 'tenant')) body.tenantId = this.tenant;
        await this.applyFields(target, body, rest, path);
        const made = await this.api.create(target.collection(parent?.dto ?? null, this.root), target.media, body);
        const own = this.display(parent, target, made);
        if (target.namedByParent) return [this.line(parent, target, made)];
        return [parent && this.interactive ? `${this.refShown(this.idOf(parent.type, parent.dto))}:${own}` : own];
      }
      case 'set':
      case 'clear': {
        if (!parent) throw new CliError(`${verb} needs an object`);
        const fresh = await this.api.get(String(parent.dto.uri), parent.type.media);
        if (verb === 'set') await this.applyFields(parent.type, fresh, rest, path.slice(0, -1));
        else for (const name of rest) {
          const f = this.fieldOf(parent.type, name);
          if (!f.set || f.readOnly) throw new CliError(`${f.name} cannot be cleared`);
          f.set(fresh, '');
          for (const k of Object.keys(fresh)) if (fresh[k] === '') fresh[k] = null;
        }
        await this.api.update(String(parent.dto.uri), parent.type.media, fresh);
        return [];
      }
      case 'delete': {
        if (!parent) throw new CliError('delete what?');
        await this.api.remove(String(parent.dto.uri));
        return [];
      }
      case 'describe': {
        const t = target ?? parent?.type;
        if (!t) return [`objects: ${ROOT_TYPES.join(' ')}`];
        return [`${t.name} fields: ${t.fields.map((f) => f.name).join(' ')}${t.children.length ? `; children: ${t.children.join(' ')}` : ''}`];
      }
      case 'show':
      case null: {
        if (target && !verb) throw new CliError(`What should be done with ${target.name}? (list, create, ...)`);
        if (!parent) throw new CliError('show what?');
        const fresh = await this.api.get(String(parent.dto.uri), parent.type.media);
        if (rest.length === 1) {
          const f = this.fieldOf(parent.type, rest[0]!);
          const v = f.get(fresh);
          return [v === null ? '' : f.ref ? this.refShown(v) : v];
        }
        return [this.line(grand, parent.type, fresh)];
      }
      default:
        throw new CliError(`Unknown command ${verb}`);
    }
  }
}
