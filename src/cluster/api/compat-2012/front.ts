import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../../nsdb/store.ts';
import type { AuthService } from '../auth.ts';
import { ApiError, errorBody, toApiError } from '../errors.ts';
import { tokenOf } from '../server.ts';
import { dhcpFrom5, dhcpToV5, isPortType, MGMT, parseMedia, portFrom5, portToV5, ruleFrom5, ruleToV5, V5_MEDIA, type Extra, type Json } from './dto.ts';

/** Where CloudStack's documentation puts MidoNet's API (`midonet.apiserver.address`). */
export const COMPAT_ROOT = '/midolmanj-mgmt';
const V5_ROOT = '/midonet-api';
const EXTRA = 'Compat2012';

export interface CompatOptions {
  store: Store;
  auth: AuthService;
  /** Who anonymous callers act as when authentication is on (MidoNet 12.12 asked for none); null refuses them. */
  anonymousAs: string | null;
}

const v5Type = (name: string, collection: boolean) => `application/vnd.org.midonet.${collection ? 'collection.' : ''}${V5_MEDIA[name]}+json`;

/** Every URI of the v5 API in an answer, as the same URI under the 2012 root. */
function rewriteUris(v: unknown, from: string, to: string): unknown {
  if (typeof v === 'string') return v.startsWith(from) ? to + v.slice(from.length) : v;
  if (Array.isArray(v)) return v.map((x) => rewriteUris(x, from, to));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rewriteUris(x, from, to)]));
  return v;
}

/**
 * MidoNet 12.12's API at /midolmanj-mgmt, for CloudStack's MidoNet plugin: each call is translated
 * to the v5 API's and served by it (the same validation, bindings and NSDB transactions), its
 * answer translated back. Objects made here are ordinary v5 objects; what 2012 said that v5 does
 * not keep (a port's interior or exterior type, a rule's properties) is kept beside them.
 */
export function serveCompat2012(app: FastifyInstance, o: CompatOptions): void {
  let identity: { token: string; expires: number } | null = null;

  /** The token the call is made with: the caller's own, or the configured identity's for anonymous callers. */
  const tokenFor = async (req: FastifyRequest): Promise<string | undefined> => {
    const own = tokenOf(req);
    if (own || !o.auth.enforced) return own;
    if (!o.anonymousAs) throw new ApiError(401, 'Authentication error: this API takes anonymous calls only when cluster.compat_2012.anonymous_user names who they act as');
    if (!identity || identity.expires < Date.now() + 60_000) {
      const t = await o.auth.issue(o.anonymousAs);
      if (!t) throw new ApiError(401, `cluster.compat_2012.anonymous_user names no known user: ${o.anonymousAs}`);
      identity = { token: t.key, expires: t.expires?.getTime() ?? Number.MAX_SAFE_INTEGER };
    }
    return identity.token;
  };

  const extraOf = (id: unknown) => (typeof id === 'string' ? o.store.tryGet<Extra>(EXTRA, id) : Promise.resolve(null)).then((x) => x ?? undefined);
  const keep = async (extra: Extra) => o.store.tx(async (tx) => ((await tx.tryGet(EXTRA, extra.id)) ? tx.update(EXTRA, extra) : tx.create(EXTRA, extra)));
  const forget = async (id: string) => o.store.tx(async (tx) => {
    if (await tx.tryGet(EXTRA, id)) await tx.delete(EXTRA, id);
  });

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const origin = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    const rest = req.url.slice(COMPAT_ROOT.length).replace(/^\/?/, '/');
    const path = rest.split('?')[0]!.replace(/\/$/, '');
    const token = await tokenFor(req);
    const call = async (method: string, p: string, media: string | null, body?: Json) => {
      const r = await app.inject({
        method: method as 'GET', url: `${V5_ROOT}${p}`,
        headers: { host: req.headers.host ?? 'localhost', ...(token ? { 'x-auth-token': token } : {}), ...(media ? { [body ? 'content-type' : 'accept']: media } : {}) },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, json: r.body ? (JSON.parse(r.body) as unknown) : null, location: r.headers.location as string | undefined };
    };
    const send = (status: number, name: string | null, body: unknown, location?: string) => {
      if (location) reply.header('location', location.replace(`${origin}${V5_ROOT}`, `${origin}${COMPAT_ROOT}`));
      if (body === null || body === undefined) return reply.code(status).send();
      const type = status >= 400 ? `${MGMT}Error+json` : `${MGMT}${name ?? 'Application'}+json`;
      return reply.code(status).header('content-type', type).send(Buffer.from(JSON.stringify(rewriteUris(body, `${origin}${V5_ROOT}`, `${origin}${COMPAT_ROOT}`))));
    };

    if (path === '' && req.method === 'GET') {
      const root = await call('GET', '', v5Type('Application', false));
      return send(root.status, 'Application', root.json);
    }
    // Link and unlink: the whole port with peerId set, or null to unlink (as often as asked).
    const link = /^\/ports\/([0-9a-f-]{36})\/link$/i.exec(path);
    if (link && req.method === 'POST') {
      const peerId = (JSON.parse(String(req.body || '{}')) as Json).peerId;
      const r = peerId ? await call('POST', path, 'application/vnd.org.midonet.PortLink-v1+json', { portId: link[1], peerId }) : await call('DELETE', path, null);
      if (!peerId && r.status === 404) return send(204, null, null);
      return send(r.status < 300 ? 204 : r.status, null, r.status < 300 ? null : r.json);
    }

    const media = parseMedia(String(req.headers['content-type'] ?? '')) ?? parseMedia(String(req.headers.accept ?? ''));
    if (req.method === 'DELETE') {
      const r = await call('DELETE', rest, null);
      if (r.status < 300) await forget(path.split('/').pop()!);
      return send(r.status, null, r.status < 300 ? null : r.json);
    }
    if (!media) return send(415, null, errorBody(new ApiError(415, `Expected a ${MGMT}<Name>+json media type`)));
    const { name } = media;

    if (req.method === 'GET') {
      const r = await call('GET', rest, v5Type(name, media.collection));
      if (r.status >= 300) return send(r.status, name, r.json);
      const one = async (x: Json) => (name === 'Port' ? portFrom5(x, await extraOf(x.id)) : name === 'Rule' ? ruleFrom5(x, await extraOf(x.id)) : name === 'DhcpSubnet' ? dhcpFrom5(x) : x);
      const body = Array.isArray(r.json) ? await Promise.all((r.json as Json[]).map(one)) : await one(r.json as Json);
      return send(200, media.collection ? `collection.${name}` : name, body);
    }

    let body = JSON.parse(String(req.body || '{}')) as Json;
    const extra: Omit<Extra, 'id'> = {};
    if (name === 'Port') {
      if (isPortType(body.type)) extra.portType = body.type;
      body = portToV5(body);
    } else if (name === 'Rule') {
      extra.properties = (body.properties as Record<string, string> | null) ?? null;
      const chain = req.method === 'POST' ? /^\/chains\/([0-9a-f-]{36})\/rules$/i.exec(path)?.[1] : undefined;
      const rules = chain ? (await call('GET', `/chains/${chain}/rules`, v5Type('Rule', true))).json : [];
      const count = Array.isArray(rules) ? rules.length : 0;
      body = ruleToV5(body, count + 1);
    } else if (name === 'DhcpSubnet') body = dhcpToV5(body);
    const r = await call(req.method, rest, v5Type(name, false), body);
    if (r.status >= 300) return send(r.status, name, r.json);
    const id = req.method === 'POST' ? r.location?.split('/').pop() : path.split('/').pop();
    if (id && (extra.portType || extra.properties)) await keep({ id, ...extra });
    return send(r.status, name, null, r.location);
  }

  const wrapped = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await handle(req, reply);
    } catch (err) {
      const e = err instanceof SyntaxError ? new ApiError(400, `Malformed JSON: ${err.message}`) : toApiError(err);
      return reply.code(e.status).header('content-type', `${MGMT}Error+json`).send(Buffer.from(JSON.stringify(errorBody(e))));
    }
  };
  app.all(COMPAT_ROOT, wrapped);
  app.all(`${COMPAT_ROOT}/*`, wrapped);
}
