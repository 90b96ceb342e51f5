import type { ApiClient } from './client.ts';
import { ROOT_TYPES, typeFor, TYPES, type CliField, type CliType, type Dto } from './types.ts';

/** A mistake in what was typed: printed as one line, the session goes on. */
export class CliError extends Error {}

/**
 * MidoNet's verbs and how much of each must be typed: list and show take any prefix (`l`, `sh`),
 * delete and describe at least `del` and `desc`; the others are whole words.
 */
const VERB_FORMS: [verb: string, word: string, min: number][] = [
  ['list', 'list', 1], ['show', 'show', 1], ['delete', 'delete', 3], ['describe', 'describe', 4],
  ['create', 'create', 6], ['create', 'add', 3], ['set', 'set', 3], ['clear', 'clear', 5],
];

export function verbOf(word: string): string | null {
  const hit = VERB_FORMS.find(([, full, min]) => word.length >= min && full.startsWith(word));
  return hit ? hit[0] : null;
}

/** `help CMD`: each command's grammar, as MidoNet's shell prints it. */
const HELP: Record<string, string[]> = {
  list: ['list - List the children of an object of a given type', '', 'Usage: l[ist] [<OBJECT> {<CHILD>}] <COLLECTION> {<FIELD> <VALUE>}', '       <OBJECT> l[ist] {<CHILD>} <COLLECTION> {<FIELD> <VALUE>}', '       [<OBJECT> {<CHILD>}] <COLLECTION> l[ist] {<FIELD> <VALUE>}', '', 'Examples:', '       list router', '       list router name edge', '       router router0 list port', '       router router0 route list'],
  show: ['show - Show an object or field', '', 'Usage: s[how] <OBJECT> {<CHILD>} [<FIELD>]', '       <OBJECT> {<CHILD>} s[how] [<FIELD>]', '       <OBJECT> {<CHILD>} [<FIELD>]', '', 'Examples:', '       show router router0', '       sh router router0 port port0', '       router router0 port port0 show infilter', '       show system-state'],
  create: ['create - Create a new object', '', 'Usage: create|add [<OBJECT> {<CHILD>}] <TYPE> {<FIELD> <VALUE>}', '       [<OBJECT> {<CHILD>}] create|add <TYPE> {<FIELD> <VALUE>}', '       [<OBJECT> {<CHILD>}] <TYPE> create|add {<FIELD> <VALUE>}', '', 'Examples:', "       create router name 'new router'", '       router router0 add port address 10.0.0.1 net 10.0.0.0/24'],
  set: ['set - Update values in an existing object', '', 'Usage: set <OBJECT> {<CHILD>} <FIELD> <VALUE> {<FIELD> <VALUE>}', '       <OBJECT> {<CHILD>} set <FIELD> <VALUE> {<FIELD> <VALUE>}', '', 'Examples:', "       set router router0 name 'new name'", '       router router0 port port0 set address 10.0.0.1 net 10.0.0.0/24'],
  clear: ['clear - Clear the value of a field on an existing object', '', 'Usage: clear <OBJECT> {<CHILD>} <FIELD> {<FIELD>}', '       <OBJECT> {<CHILD>} clear <FIELD> {<FIELD>}', '', 'Examples:', '       clear bridge bridge0 port port0 peer', '       bridge bridge0 port port0 clear peer'],
  delete: ['delete - Delete an object', '', 'Usage: del[ete] <OBJECT> {<CHILD>}', '       <OBJECT> {<CHILD>} del[ete] {<CHILD>}', '', 'Examples:', '       delete router router0', '       delete router name edge', '       router router0 delete port port0'],
  describe: ['describe - Show the names of members of an object', '', 'Usage: desc[ribe] [<OBJECT> {<CHILD>}] [<TYPE>]', '       <OBJECT> {<CHILD>} desc[ribe]', '', 'Examples:', '       describe', '       describe router router0', '       router router0 port port0 describe'],
  sett: ['sett - Sets a tenant id to the session: lists show its objects, creates give it', '', 'Usage: sett <TENANT_ID>'],
  cleart: ['cleart - Clears the current tenant from the session', '', 'Usage: cleart'],
  debug: ['debug - Toggle debug mode', '', 'Usage: debug on|off'],
  quit: ['quit - end the current session and exit'],
  exit: ['exit - end the current session and exit'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Node {
  type: CliType;
  dto: Dto;
}

/** A command line understood: the object path, the verb, and what follows. */
interface Parsed {
  verb: string | null;
  path: Node[];
  /** The collection named (list, create, describe) and its filter pairs. */
  target: CliType | null;
  filters: string[];
  /** A field of the last object to show (`router router0 show name`). */
  field: string | null;
  /** Field assignments (create, set) or names (clear). */
  rest: string[];
}

/** Splits a command line like a shell: quotes group words. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

const hasField = (type: CliType, name: string) => type.fields.some((f) => f.name === name);

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
  /** Objects as last seen, for completion without asking the API. */
  private readonly seen = new Map<string, Dto>();
  /** Ids deleted, or missing from their collection's last listing: their aliases are not offered. */
  private readonly gone = new Set<string>();
  tenant: string | null = null;
  /** --json: objects printed as their API JSON, one per line, for scripts. */
  json = false;
  debug = false;

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
    this.seen.set(id, d);
    this.gone.delete(id);
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
    const scoped = type.tenantScoped && !parent ? this.tenant : null;
    const items = await this.api.list(type.collection(parent?.dto ?? null, this.root), type.listMedia, scoped);
    if (!scoped) for (const id of this.names.get(this.nsKey(parent, type)) ?? []) this.gone.add(id);
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

  private looksLikeId(type: CliType, token: string): boolean {
    return new RegExp(`^${type.alias}\\d+$`).test(token) || UUID.test(token);
  }

  /** The one object of a collection whose fields match (`router name edge show`). */
  private async select(parent: Node | null, type: CliType, filters: string[], path: Node[]): Promise<Node> {
    const hits = await this.filtered(parent, type, filters, path);
    if (hits.length === 1) return { type, dto: hits[0]! };
    throw new CliError(hits.length === 0 ? `No ${type.name} has ${filters.join(' ')}` : `${hits.length} objects of type ${type.name} have ${filters.join(' ')}: give an alias or id`);
  }

  private async filtered(parent: Node | null, type: CliType, filters: string[], path: Node[]): Promise<Dto[]> {
    const items = await this.listOf(parent, type);
    const wanted: [CliField, string | null][] = [];
    for (let i = 0; i < filters.length; i += 2) {
      const f = this.fieldOf(type, filters[i]!);
      wanted.push([f, await this.normalized(f, filters[i + 1]!, path)]);
    }
    return items.filter((d) => wanted.every(([f, v]) => f.get(d) === v));
  }

  /** A typed value as the field prints it (aliases to ids, `proto tcp` to 6, `10.0.0.1` to 10.0.0.1/32). */
  private async normalized(f: CliField, raw: string, path: Node[]): Promise<string | null> {
    if (!f.set) return f.ref ? await this.resolveField(f, raw, path) : raw;
    const probe: Dto = {};
    await this.assign(f, probe, raw, path);
    return f.get(probe);
  }

  /** A reference typed as an alias ("host0", "router0:port0") or a UUID, to an id. */
  private async resolveRef(typeNames: string, token: string, path: Node[]): Promise<string> {
    if (UUID.test(token)) return token.toLowerCase();
    for (const typeName of typeNames.split('|')) {
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
    }
    throw new CliError(`Unknown ${typeNames.split('|').join(' or ')} ${token}`);
  }

  /** A ref field's typed value ("!port0", "router0:port0,port1") with its aliases as ids. */
  private async resolveField(f: CliField, raw: string, path: Node[]): Promise<string> {
    const neg = f.inv && raw.startsWith('!') ? '!' : '';
    const body = neg ? raw.slice(1) : raw;
    const ids = f.list ? await Promise.all(body.split(',').filter(Boolean).map((r) => this.resolveRef(f.ref!, r, path))) : [await this.resolveRef(f.ref!, body, path)];
    return neg + ids.join(',');
  }

  private childTypes(parent: Node | null): string[] {
    return parent ? parent.type.children : ROOT_TYPES;
  }

  private fieldOf(type: CliType, name: string): CliField {
    const f = type.fields.find((x) => x.name === name);
    if (!f) throw new CliError(`${type.name} has no field ${name} (fields: ${type.fields.map((x) => x.name).join(', ')})`);
    return f;
  }

  private async assign(f: CliField, d: Dto, typed: string, path: Node[]): Promise<void> {
    if (!f.set || f.readOnly) throw new CliError(`${f.name} cannot be set`);
    let raw = f.ref ? await this.resolveField(f, typed, path) : typed;
    if (f.inv) {
      d[f.inv] = raw.startsWith('!');
      if (raw.startsWith('!')) raw = raw.slice(1);
    }
    try {
      f.set(d, raw);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }

  private async applyFields(type: CliType, d: Dto, words: string[], path: Node[]): Promise<void> {
    if (words.length % 2 !== 0) throw new CliError(`Missing value for ${words.at(-1)}`);
    for (let i = 0; i < words.length; i += 2) await this.assign(this.fieldOf(type, words[i]!), d, words[i + 1]!, path);
  }

  /** One line for an object: "<label> <alias> <field> <value> ...", unset fields left out. */
  private line(parent: Node | null, type: CliType, d: Dto): string {
    if (this.json) {
      if (!type.single) this.alias(parent, type, d);
      return JSON.stringify(d);
    }
    const words = [type.label];
    if (!type.single) words.push(type.namedByParent && parent ? this.refShown(this.idOf(parent.type, parent.dto)) : this.display(parent, type, d));
    for (const f of type.fields) {
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

  /** The live aliases of a collection as far as this session has seen it. */
  private aliasesIn(parent: Node | null, type: CliType): string[] {
    const ids = this.names.get(this.nsKey(parent, type)) ?? [];
    return ids.flatMap((id, n) => (this.gone.has(id) ? [] : [`${type.alias}${n}`]));
  }

  /**
   * Tab completion from where the cursor is in the grammar: the verbs and collections that may
   * come next, the aliases of the collection just named, or the fields of the object or type.
   * Works from what the session has seen, without asking the API.
   */
  completions(line: string): string[] {
    const words = splitWords(line);
    if (!line.endsWith(' ')) words.pop();
    let parent: Node | null = null;
    let verb: string | null = null;
    let named: CliType | null = null;
    let target: CliType | null = null;
    let awaitingValue = false;
    let verbFirst = false;
    for (const w of words) {
      if (['help', 'sett', 'debug'].includes(w) && words.length === 1) return w === 'help' ? Object.keys(HELP) : w === 'debug' ? ['on', 'off'] : [];
      if (awaitingValue) {
        awaitingValue = false;
        continue;
      }
      if (named) {
        const n = new RegExp(`^${named.alias}(\\d+)$`).exec(w);
        const id: string | undefined = n ? this.names.get(this.nsKey(parent, named))?.[Number(n[1])] : w;
        const dto: Dto | undefined = id ? this.seen.get(id) : undefined;
        if (dto) {
          parent = { type: named, dto };
          named = null;
          continue;
        }
        target = named;
        named = null;
      }
      const v: string | null = verb ? null : verbOf(w);
      const key: string | null = target ? null : typeFor(this.childTypes(parent), w);
      if (v) {
        verb = v;
        verbFirst = parent === null;
      } else if (key) {
        const t: CliType = TYPES[key]!;
        if (t.single) parent = { type: t, dto: {} };
        else named = t;
      } else if (target ? hasField(target, w) : parent && hasField(parent.type, w)) awaitingValue = true;
    }
    if (awaitingValue) return [];
    if (named) return [...this.aliasesIn(parent, named), ...(verb ? [] : ['list', 'create', 'add']), ...named.fields.map((f) => f.name)];
    const fieldsOf = target ?? (verb === 'set' || verb === 'clear' || verb === 'show' || verb === null ? parent?.type : null);
    const out = [...(fieldsOf ? fieldsOf.fields.filter((f) => verb !== 'set' && verb !== 'create' || (f.set && !f.readOnly)).map((f) => f.name) : [])];
    // After `<OBJECT> set` only fields follow; `set <OBJECT>` may still go down to a child.
    if (!target && !((verb === 'set' || verb === 'clear') && !verbFirst)) out.push(...this.childTypes(parent).map((k) => TYPES[k]!.name));
    if (!verb) out.push(...VERB_FORMS.map(([, word]) => word), ...(parent ? [] : ['sett', 'cleart', 'debug', 'help', 'quit']));
    return [...new Set(out)];
  }

  private async parse(words: string[]): Promise<Parsed> {
    const p: Parsed = { verb: null, path: [], target: null, filters: [], field: null, rest: [] };
    let i = 0;
    while (i < words.length) {
      const w = words[i]!;
      const parent = p.path.at(-1) ?? null;
      const verb = p.verb ? null : verbOf(w);
      if (verb) {
        p.verb = verb;
        i++;
        continue;
      }
      if (p.target) {
        if (p.verb === 'create') break;
        if (p.verb === 'list' && p.filters.length === 0 && hasField(p.target, w)) {
          while (i + 1 < words.length && hasField(p.target, words[i]!)) p.filters.push(words[i++]!, words[i++]!);
          continue;
        }
        throw new CliError(`Unexpected ${w} after ${p.target.name}`);
      }
      const typeKey = typeFor(this.childTypes(parent), w);
      if (!typeKey) {
        if (p.verb === 'set' || p.verb === 'clear') break;
        if (parent && !p.field && (p.verb === 'show' || p.verb === null) && hasField(parent.type, w)) {
          p.field = w;
          i++;
          continue;
        }
        throw new CliError(`Unknown object or command: ${w}`);
      }
      const type = TYPES[typeKey]!;
      i++;
      if (type.single) {
        p.path.push({ type, dto: await this.api.get(type.collection(null, this.root), type.media) });
        continue;
      }
      if (p.verb === 'create') {
        p.target = type;
        break;
      }
      const next = words[i];
      const obj = next === undefined ? null : await this.find(parent, type, next);
      if (obj) {
        p.path.push(obj);
        i++;
        continue;
      }
      if (next !== undefined && this.looksLikeId(type, next)) throw new CliError(`Unknown ${type.name} ${next}`);
      const filters: string[] = [];
      while (i + 1 < words.length && hasField(type, words[i]!)) filters.push(words[i++]!, words[i++]!);
      // `list router name edge` lists; `chain name web list rule` lists the rules of that chain.
      const listVerb = p.verb === 'list' ? i : i < words.length && verbOf(words[i]!) === 'list' ? i + 1 : -1;
      const listing = listVerb >= 0 && !(listVerb < words.length && typeFor(type.children, words[listVerb]!));
      if (listing || filters.length === 0) {
        p.target = type;
        p.filters = filters;
        continue;
      }
      // `set router name edge state down`: the last pair is what to set, not which router.
      if (p.verb === 'set' && i === words.length && filters.length > 2) {
        filters.splice(-2);
        i -= 2;
      }
      p.path.push(await this.select(parent, type, filters, p.path));
    }
    p.rest = words.slice(i);
    return p;
  }

  /** Runs one command line; returns the lines to print. */
  async run(line: string): Promise<string[]> {
    const words = splitWords(line);
    if (words.length === 0) return [];
    switch (words[0]) {
      case 'sett':
        if (words.length !== 2) throw new CliError('Usage: sett <TENANT_ID>');
        this.tenant = words[1]!;
        return [];
      case 'cleart':
        this.tenant = null;
        return [];
      case 'debug':
        if (words[1] !== 'on' && words[1] !== 'off') throw new CliError('Usage: debug on|off');
        this.debug = words[1] === 'on';
        return [];
      case 'help':
        if (words[1]) {
          const verb = verbOf(words[1]) ?? words[1];
          const text = HELP[verb];
          if (!text) throw new CliError(`*** No help on ${words[1]}`);
          return text;
        }
        return ["Type 'help COMMAND' for detailed help.", '', 'Available commands:', `    ${Object.keys(HELP).join('  ')}`, '', `Objects: ${ROOT_TYPES.map((k) => TYPES[k]!.name).join(' ')}`];
    }
    const { verb, path, target, filters, field, rest } = await this.parse(words);
    const parent = path.at(-1) ?? null;
    const grand = path.at(-2) ?? null;
    const leftover = () => {
      if (rest.length) throw new CliError(`Unexpected ${rest.join(' ')}`);
    };
    switch (verb) {
      case 'list': {
        leftover();
        if (!target) throw new CliError('list what?');
        const items = filters.length ? await this.filtered(parent, target, filters, path) : await this.listOf(parent, target);
        return items.map((d) => this.line(parent, target, d));
      }
      case 'create': {
        if (!target) throw new CliError('create what?');
        const body: Dto = { ...(target.createDefaults?.(parent?.dto ?? null) ?? {}) };
        if (this.tenant && hasField(target, 'tenant')) body.tenantId = this.tenant;
        await this.applyFields(target, body, rest, path);
        const made = await this.api.create(target.collection(parent?.dto ?? null, this.root), target.media, body);
        const own = this.display(parent, target, made);
        if (target.namedByParent) return [this.line(parent, target, made)];
        return [parent && this.interactive ? `${this.refShown(this.idOf(parent.type, parent.dto))}:${own}` : own];
      }
      case 'set':
      case 'clear': {
        if (!parent || parent.type.single) throw new CliError(`${verb} needs an object`);
        if (rest.length === 0) throw new CliError(`${verb} which field?`);
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
        leftover();
        if (!parent || target || parent.type.single) throw new CliError('delete what?');
        await this.api.remove(String(parent.dto.uri));
        this.gone.add(this.idOf(parent.type, parent.dto));
        return [];
      }
      case 'describe': {
        leftover();
        const t = target ?? parent?.type;
        const collections = t ? t.children.map((k) => TYPES[k]!.name) : ROOT_TYPES.map((k) => TYPES[k]!.name);
        const fields = t ? t.fields.map((f) => f.name) : [];
        return ['Object collections:', `    ${collections.join('  ') || '<NONE>'}`, 'Fields:', `    ${fields.join('  ') || '<NONE>'}`];
      }
      case 'show':
      case null: {
        leftover();
        if (target && !verb) throw new CliError(`What should be done with ${target.name}? (list, create, ...)`);
        if (!parent || target) throw new CliError('show what?');
        const fresh = parent.type.single ? parent.dto : await this.api.get(String(parent.dto.uri), parent.type.media);
        if (field) {
          const f = this.fieldOf(parent.type, field);
          const v = f.get(fresh);
          return [v === null ? '' : f.ref ? this.refsShown(v) : v];
        }
        return [this.line(grand, parent.type, fresh)];
      }
      default:
        throw new CliError(`Unknown command ${verb}`);
    }
  }
}
