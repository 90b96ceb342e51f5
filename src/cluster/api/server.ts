import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Store } from '../../nsdb/store.ts';
import { formatExpiry, LoginThrottled, type AuthService, type Token, type User } from './auth.ts';
import { ApiError, errorBody, toApiError } from './errors.ts';
import { NsdbUnavailableError } from '../../nsdb/errors.ts';
import type { ClusterMetrics } from '../metrics.ts';
import type { Ctx, Method, Route } from './http.ts';
import { accepts, ERROR_TYPE, negotiate, versionOf, vnd } from './media.ts';
import { serveCompat2012 } from './compat-2012/front.ts';
import { writeHeadersInMidonetCase } from './header-case.ts';
import { allRoutes } from './resources/index.ts';

export const API_ROOT = '/midonet-api';
/** Bodies above this are refused with 413 before they are read whole. */
export const BODY_LIMIT = 1024 * 1024;

export interface ApiOptions {
  store: Store;
  auth: AuthService;
  logger?: boolean;
  /** Serve HTTPS (and the topology stream as wss) with this key and certificate. */
  tls?: { key: Buffer; cert: Buffer };
  /** Counts and logs every request, and serves GET /metrics. */
  metrics?: ClusterMetrics;
  /** cluster.rest_api.enabled: false serves only /login, /conf, health, readiness and metrics (and the topology stream). */
  rest?: boolean;
  /** MidoNet 12.12's API at /midolmanj-mgmt (CloudStack): who anonymous calls act as when authentication is on. */
  compat2012?: { anonymousAs: string | null };
}

/** Who made each request, for the request log. */
const callers = new WeakMap<FastifyRequest, string>();

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-expose-headers': 'Location',
};

/**
 * Sends text with exactly the given media type: MidoNet echoes the vendor type asked for, with
 * its case and no charset, and fastify would rewrite a string body's type (a Buffer's it keeps).
 */
function sendTyped(reply: FastifyReply, type: string, text: string): FastifyReply {
  return reply.header('content-type', type).send(Buffer.from(text));
}

function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  reply.code(e.status).headers(e.headers);
  if (e.status === 406) return reply.send();
  return sendTyped(reply, ERROR_TYPE, JSON.stringify(errorBody(e)));
}

const unauthorized = (message: string) =>
  new ApiError(401, message, undefined, { 'www-authenticate': 'Basic  realm="BASIC_AUTH_REALM"' });

function baseUri(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? 'localhost:8181'}${API_ROOT}`;
}

function parseJson(raw: unknown): unknown {
  // MidoNet's Jackson stops at the end of the JSON value: eucanetd sends a NUL byte after each body.
  const text = typeof raw === 'string' ? raw.replace(/[\0\s]+$/, '') : '';
  if (text.trim() === '') throw new ApiError(400, 'Request body is missing');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `Malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * MidoNet's login: Basic credentials (the project in X-Auth-Project), a token in the body and the
 * `sessionId` cookie, exactly as MidoNet answers. For the console (`browser`), a refusal goes
 * without MidoNet's WWW-Authenticate (a browser would pop up its own password dialog) and the
 * cookie is for the whole site (the page and the topology stream send it too), script-proof.
 */
export async function login(auth: AuthService, req: FastifyRequest, reply: FastifyReply, browser: boolean): Promise<FastifyReply> {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  // The password is everything after the first colon: it may hold colons of its own.
  const colon = decoded.indexOf(':');
  const project = req.headers['x-auth-project'];
  let token: Token | null = null;
  try {
    token = colon > 0 ? await auth.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1), typeof project === 'string' ? project : undefined, req.ip) : null;
  } catch (err) {
    if (!(err instanceof LoginThrottled)) throw err;
    return sendError(reply, new ApiError(429, err.message, undefined, { 'retry-after': String(err.retryAfter) }));
  }
  if (!token) {
    const refused = 'Authentication failed: invalid credentials';
    return sendError(reply, browser ? new ApiError(401, refused) : unauthorized(refused));
  }
  const expires = token.expires ? formatExpiry(token.expires) : null;
  reply.header('set-cookie', `sessionId=${token.key}${expires ? `; Expires=${expires}` : ''}${browser ? '; Path=/; HttpOnly; SameSite=Strict' : ''}`);
  return sendTyped(reply, vnd('Token', 1), JSON.stringify({ key: token.key, expires }));
}

/** The MidoNet v5 REST API as a fastify application (not yet listening). */
export function buildApi(opts: ApiOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.tls ? { https: opts.tls } : {}),
    logger: opts.logger ?? false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
  });
  // Every body arrives as text; resources parse it so that errors carry MidoNet's shape.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    writeHeadersInMidonetCase(reply.raw);
    reply.headers(CORS);
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-headers', 'Origin, X-Auth-Token, X-Auth-Project, Content-Type, Accept, Authorization');
      return reply.code(200).send();
    }
    // Without the NSDB every answer would be a failure: say so at once, and when to ask again.
    if (!opts.store.backend.available && req.url.startsWith(API_ROOT)) return sendError(reply, toApiError(new NsdbUnavailableError('its session is being renewed')));
  });

  if (opts.metrics) {
    const metrics = opts.metrics;
    metrics.instrument(app, 'midonet', (req) => callers.get(req));
    // Counters only, but an entry point like any other: the API's token when authentication is on.
    app.get('/metrics', async (req, reply) => {
      if (opts.auth.enforced && !(await opts.auth.authorize(tokenOf(req)))?.roles.includes('admin')) return sendError(reply, unauthorized('Authentication error'));
      return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  // For supervisors and load balancers: alive (the process answers), ready (its NSDB answers too).
  app.get('/healthz', async (_req, reply) => reply.code(200).send({ status: 'alive' }));
  app.get('/readyz', async (_req, reply) =>
    opts.store.backend.available ? reply.code(200).send({ status: 'ready', nsdb: opts.store.backend.name }) : reply.code(503).header('retry-after', '5').send({ status: 'not ready', nsdb: 'unreachable' }),
  );

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : undefined;
    sendError(reply, status ? new ApiError(status, err.message) : toApiError(err));
  });
  app.setNotFoundHandler((req, reply) => {
    const under = req.url.startsWith(`${API_ROOT}/`) ? req.url.slice(API_ROOT.length + 1) : req.url.slice(1);
    const seg = under.split(/[/?]/)[0] ?? '';
    sendError(reply, new ApiError(404, `Root resource ${seg} not found`));
  });

  app.all(`${API_ROOT}/login`, (req, reply) => login(opts.auth, req, reply, false));

  // With the REST API off, /conf stays: it is how mn-conf reaches an embedded NSDB (and turns it back on).
  for (const route of allRoutes().filter((r) => opts.rest !== false || r.path.startsWith('/conf'))) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
      url: `${API_ROOT}${route.path}`,
      handler: async (req, reply) => {
        try {
          await dispatch(route, req, reply, opts);
        } catch (err) {
          sendError(reply, toApiError(err));
        }
      },
    });
  }
  if (opts.rest !== false) serveCompat2012(app, { store: opts.store, auth: opts.auth, anonymousAs: opts.compat2012?.anonymousAs ?? null });
  return app;
}

/** The token a request carries: X-Auth-Token, a bearer token (Prometheus sends those), or MidoNet's session cookie. */
export function tokenOf(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
  const h = req.headers['x-auth-token'];
  if (typeof h === 'string' && h) return h;
  const bearer = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  if (bearer) return bearer[1];
  const c = req.headers.cookie;
  const cookie = /(?:^|;\s*)sessionId=([^;]+)/.exec(typeof c === 'string' ? c : '');
  return cookie?.[1];
}

/**
 * What an agent's own credential may do through the API: register its host, bind and unbind
 * ports to it, read its configuration. Nothing about other hosts.
 */
function hostMayCall(user: User, method: string, path: string, body: unknown): boolean {
  if (!user.roles.includes('host') || !user.hostId) return false;
  const own = user.hostId.toLowerCase();
  const p = path.split('?')[0]!.replace(/\/$/, '').toLowerCase();
  if (method === 'GET' && (p === '' || p === `/hosts/${own}` || p === `/conf/runtime/${own}` || p === `/hosts/${own}/ports`)) return true;
  if (method === 'POST' && p === '/hosts') {
    try {
      return (JSON.parse(String(body)) as { id?: unknown }).id === user.hostId;
    } catch {
      return false;
    }
  }
  return (method === 'POST' && p === `/hosts/${own}/ports`) || (method === 'DELETE' && p.startsWith(`/hosts/${own}/ports/`));
}

async function dispatch(route: Route, req: FastifyRequest, reply: FastifyReply, opts: ApiOptions): Promise<void> {
  const user = await opts.auth.authorize(tokenOf(req));
  if (!user) throw unauthorized('Authentication error');
  callers.set(req, user.name);
  if (!user.roles.includes('admin') && !hostMayCall(user, req.method, req.url.slice(API_ROOT.length), req.body)) {
    throw unauthorized('Only admin users may use this API');
  }
  const method = req.method.toLowerCase() as Method;
  const endpoint = route[method];
  if (!endpoint) throw new ApiError(405, `Method ${req.method} not allowed`);
  let answerType: string | null = null;
  let version = 1;
  if (endpoint.media) {
    if (method === 'get') {
      answerType = negotiate(req.headers.accept, endpoint.media);
      if (!answerType) throw new ApiError(406, 'Not acceptable');
      version = versionOf(answerType, endpoint.media);
    } else if (method === 'post' || method === 'put') {
      const given = accepts(req.headers['content-type'], endpoint.media);
      if (!given) throw new ApiError(406, 'Not acceptable');
      version = versionOf(given, endpoint.media);
    }
  }
  const raw = req.body;
  const ctx: Ctx = {
    params: req.params as Record<string, string>,
    query: req.query as Record<string, string | undefined>,
    base: baseUri(req),
    store: opts.store,
    auth: opts.auth,
    user,
    version,
    body: () => parseJson(raw),
    raw: () => (typeof raw === 'string' ? raw : ''),
  };
  const out = await endpoint.handle(ctx);
  reply.code(out.status).headers(out.headers ?? {});
  if (out.body === undefined) {
    await reply.send();
    return;
  }
  if (typeof out.body === 'string') await sendTyped(reply, answerType ?? 'text/plain', out.body);
  else await sendTyped(reply, answerType ?? out.type ?? 'application/json', JSON.stringify(out.body));
}
