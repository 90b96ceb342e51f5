import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

const SPECIAL: Record<string, string> = { 'www-authenticate': 'WWW-Authenticate', etag: 'ETag' };

/** A header name as MidoNet's server (Jetty) writes it: Location, Content-Type, WWW-Authenticate. */
export const midonetCase = (name: string): string => SPECIAL[name.toLowerCase()] ?? name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

/**
 * Makes a response write its header names in MidoNet's case. Header names are case-insensitive,
 * but clients exist that look for the raw text `Location: ` (eucanetd does), and fastify
 * lowercases every name it is given.
 */
export function writeHeadersInMidonetCase(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const cased = rest.map((arg) => {
      if (!arg || typeof arg !== 'object' || Array.isArray(arg)) return arg;
      return Object.fromEntries(Object.entries(arg as OutgoingHttpHeaders).map(([k, v]) => [midonetCase(k), v]));
    });
    return writeHead(status, ...cased);
  }) as ServerResponse['writeHead'];
}
