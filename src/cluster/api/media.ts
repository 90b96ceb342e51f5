/** MidoNet's vendor media types and the content negotiation its resources do. */
export const JSON_TYPE = 'application/json';

export const vnd = (name: string, version: number): string => `application/vnd.org.midonet.${name}-v${version}+json`;
export const coll = (name: string, version: number): string => vnd(`collection.${name}`, version);

export const ERROR_TYPE = vnd('Error', 1);

/** Media types one operation accepts; `json` adds application/json where MidoNet allows it. */
export interface MediaSpec {
  types: readonly string[];
  json?: boolean;
}

export const media = (types: string | readonly string[], json = true): MediaSpec => ({
  types: typeof types === 'string' ? [types] : types,
  json,
});

function parseList(header: string): string[] {
  return header
    .split(',')
    .map((p) => p.split(';')[0]!.trim().toLowerCase())
    .filter((p) => p.length > 0);
}

function compatible(a: string, b: string): boolean {
  const [at, as] = a.toLowerCase().split('/');
  const [bt, bs] = b.toLowerCase().split('/');
  if (!at || !as || !bt || !bs) return false;
  return (at === '*' || bt === '*' || at === bt) && (as === '*' || bs === '*' || as === bs);
}

function allowed(spec: MediaSpec): string[] {
  return spec.json ? [...spec.types, JSON_TYPE] : [...spec.types];
}

/**
 * The type to answer a GET with: the first of the client's Accept entries that an allowed type
 * matches (a wildcard gets the resource's own vendor type), or null for 406.
 */
export function negotiate(accept: string | undefined, spec: MediaSpec): string | null {
  if (!accept) return null;
  const ok = allowed(spec);
  for (const want of parseList(accept)) {
    const hit = ok.find((t) => compatible(want, t));
    if (hit) return hit;
  }
  return null;
}

/** Whether a request body's Content-Type is one this operation takes. */
export function accepts(contentType: string | undefined, spec: MediaSpec): string | null {
  if (!contentType) return null;
  const given = parseList(contentType)[0];
  if (!given) return null;
  return allowed(spec).find((t) => compatible(given, t)) ? given : null;
}

/** The `-vN` of a media type (1 when absent; the newest for plain JSON). */
export function versionOf(type: string, spec: MediaSpec): number {
  const m = /-v(\d+)\+json$/.exec(type);
  if (m) return Number(m[1]);
  const versions = spec.types.map((t) => Number(/-v(\d+)\+json$/.exec(t)?.[1] ?? 1));
  return Math.max(1, ...versions);
}
