import hocon from '@pushcorn/hocon-parser';

export type Flat = Record<string, unknown>;

/** Parses HOCON text into dotted keys: `a { b = 1 }` and `a.b : 1` both give {"a.b": 1}. */
export async function parseHocon(text: string): Promise<Flat> {
  const tree = (await hocon.parse({ text })) as Record<string, unknown>;
  const out: Flat = {};
  const walk = (o: unknown, prefix: string) => {
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) {
      for (const [k, v] of Object.entries(o)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else out[prefix] = o;
  };
  walk(tree, '');
  return out;
}

/** Dotted keys back to HOCON text, one `key : value` line each, sorted. */
export function renderHocon(flat: Flat): string {
  return Object.keys(flat)
    .sort()
    .map((k) => `${k} : ${JSON.stringify(flat[k])}`)
    .join('\n');
}
