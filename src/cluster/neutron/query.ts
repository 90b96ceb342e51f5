/** Neutron's list query: attribute filters, `fields`, and marker pagination with sorting. */
import type { Json } from './service.ts';

export type Query = Record<string, string | string[] | undefined>;

const RESERVED = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse', 'tags', 'tags-any', 'not-tags', 'not-tags-any']);

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a stored value equals a filter's text as Neutron compares them (booleans in any case). */
function same(stored: unknown, wanted: string): boolean {
  if (typeof stored === 'boolean') return String(stored) === wanted.toLowerCase();
  if (stored === null) return wanted === '' || wanted === 'None';
  return String(stored) === wanted;
}

/**
 * `fixed_ips=ip_address=10.0.0.5`, `fixed_ips=subnet_id=...`, `fixed_ips=ip_address_substr=10.0`
 * (ip-substring-filtering): any of the port's addresses.
 */
function matchesFixedIp(stored: unknown, wanted: string): boolean {
  const [k, v] = wanted.split('=', 2);
  if (!Array.isArray(stored) || k === undefined) return false;
  if (k === 'ip_address_substr') return stored.some((f) => String((f as Json).ip_address).includes(v ?? ''));
  return stored.some((f) => same((f as Json)[k], v ?? ''));
}

function matches(o: Json, key: string, wanted: string[]): boolean {
  const stored = o[key];
  if (key === 'fixed_ips') return wanted.every((w) => matchesFixedIp(stored, w));
  if (Array.isArray(stored)) return wanted.some((w) => stored.some((s) => same(s, w)));
  return wanted.some((w) => same(stored, w));
}

/** Tag filters: `tags` (all of), `tags-any`, `not-tags` (not all of), `not-tags-any`, each comma-separated. */
function tagged(o: Json, q: Query): boolean {
  const has = new Set((o.tags as string[] | undefined) ?? []);
  const list = (k: string) => values(q[k]).flatMap((v) => v.split(',')).filter((t) => t !== '');
  const all = (ts: string[]) => ts.every((t) => has.has(t));
  const any = (ts: string[]) => ts.some((t) => has.has(t));
  const [t, ta, nt, nta] = [list('tags'), list('tags-any'), list('not-tags'), list('not-tags-any')];
  return (t.length === 0 || all(t)) && (ta.length === 0 || any(ta)) && (nt.length === 0 || !all(nt)) && (nta.length === 0 || !any(nta));
}

/** A filter on what the resource does not have is ignored, as Neutron does without filter-validation. */
export function filter(items: Json[], q: Query): Json[] {
  const filters = Object.entries(q).filter(([k]) => !RESERVED.has(k)).map(([k, v]) => [k, values(v)] as const);
  return items.filter((o) => filters.every(([k, w]) => !(k in o) || matches(o, k, w)) && tagged(o, q));
}

export function project(o: Json, q: Query): Json {
  const fields = values(q.fields);
  return fields.length === 0 ? o : Object.fromEntries(fields.filter((f) => f in o).map((f) => [f, o[f]]));
}

/** Sorted by sort_key (id by default), the page after `marker`, and the next page's link. */
export function paginate(items: Json[], q: Query, url: (params: URLSearchParams) => string): { page: Json[]; next: string | null } {
  const keys = values(q.sort_key);
  const dirs = values(q.sort_dir);
  const sortKeys = keys.length > 0 ? keys : ['id'];
  const sorted = [...items].sort((a, b) => {
    for (let i = 0; i < sortKeys.length; i++) {
      const k = sortKeys[i]!;
      const [x, y] = [String(a[k] ?? ''), String(b[k] ?? '')];
      if (x !== y) return (x < y ? -1 : 1) * (dirs[i] === 'desc' ? -1 : 1);
    }
    return 0;
  });
  const marker = values(q.marker)[0];
  const start = marker ? sorted.findIndex((o) => o.id === marker) + 1 : 0;
  const limit = Number(values(q.limit)[0] ?? 0);
  if (!(limit > 0)) return { page: sorted.slice(start), next: null };
  const page = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  if (!more || page.length === 0) return { page, next: null };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (k !== 'marker') for (const x of values(v)) params.append(k, x);
  params.set('marker', page[page.length - 1]!.id as string);
  return { page, next: url(params) };
}
