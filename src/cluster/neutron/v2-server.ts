/**
 * The Neutron v2.0 API on its own port (9696), so that OpenStack tooling such as the `openstack`
 * CLI works against MidoNet without a Neutron server. Same service as /midonet-api/neutron.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Store } from '../../nsdb/store.ts';
import { NsdbUnavailableError } from '../../nsdb/errors.ts';
import type { ClusterMetrics } from '../metrics.ts';
import type { AuthService, User } from '../api/auth.ts';
import { ApiError, toApiError } from '../api/errors.ts';
import { BODY_LIMIT } from '../api/server.ts';
import { badRequest, NeutronError, neutronErrorBody, notFound } from './errors.ts';
import { extensionList } from './extensions.ts';
import { filter, paginate, project, type Query } from './query.ts';
import { DEFAULT_QUOTAS, Quotas } from './quotas.ts';
import { NeutronService, type Json, type Writer } from './service.ts';

interface Collection {
  path: string;
  resource: string;
  plural: string;
}

const COLLECTIONS: Collection[] = [
  { path: 'networks', resource: 'network', plural: 'networks' },
  { path: 'subnets', resource: 'subnet', plural: 'subnets' },
  { path: 'ports', resource: 'port', plural: 'ports' },
  { path: 'routers', resource: 'router', plural: 'routers' },
  { path: 'floatingips', resource: 'floatingip', plural: 'floatingips' },
  { path: 'security-groups', resource: 'security_group', plural: 'security_groups' },
  { path: 'security-group-rules', resource: 'security_group_rule', plural: 'security_group_rules' },
  { path: 'subnetpools', resource: 'subnetpool', plural: 'subnetpools' },
];

/** Without Keystone every caller is the admin of one project, unless a proxy names the project. */
const DEFAULT_PROJECT = 'admin';

const origin = (req: FastifyRequest) => `${req.protocol}://${req.headers.host ?? 'localhost:9696'}`;

function versionLink(req: FastifyRequest) {
  return { id: 'v2.0', status: 'CURRENT', links: [{ href: `${origin(req)}/v2.0/`, rel: 'self' }] };
}

const users = new WeakMap<FastifyRequest, User>();

/**
 * Who calls: the token's project and whether it is the admin's. The admin (and, without
 * Keystone, everyone) may act for the project a proxy names in X-Project-Id.
 */
function writer(req: FastifyRequest): Writer {
  const user = users.get(req);
  const admin = user?.roles.includes('admin') ?? false;
  const project = req.headers['x-project-id'] ?? req.headers['x-tenant-id'];
  const own = user?.tenantId || DEFAULT_PROJECT;
  return { tenant: admin && typeof project === 'string' && project ? project : own, admin, trusted: false };
}

function parse(raw: unknown): Json {
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('Resource body required');
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw badRequest('Malformed request body');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest('Body contains invalid data');
  return v as Json;
}

/** The object under the resource's key, as every Neutron write body wraps it. */
function unwrap(body: Json, key: string): unknown {
  if (!(key in body)) throw badRequest(`Unable to find '${key}' in request body`);
  return body[key];
}

function send(reply: FastifyReply, status: number, body?: unknown): FastifyReply {
  reply.code(status);
  if (body === undefined) return reply.send();
  return reply.header('content-type', 'application/json').send(JSON.stringify(body));
}

/**
 * The app, not yet listening. Tokens (X-Auth-Token) are checked by the same authentication as the
 * MidoNet API; version discovery needs none.
 */
export function buildNeutronApi(store: Store, auth: AuthService, o: { tls?: { key: Buffer; cert: Buffer }; metrics?: ClusterMetrics } = {}): FastifyInstance {
  const app = Fastify({
    ...(o.tls ? { https: o.tls } : {}), bodyLimit: BODY_LIMIT, routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // Neutron takes a format suffix on any path (`/v2.0/networks.json`, `/quotas/P/details.json`).
    rewriteUrl: (req) => (req.url ?? '/').replace(/\.json(?=$|\?)/, ''),
  }) as unknown as FastifyInstance;
  o.metrics?.instrument(app, 'neutron', (req) => users.get(req)?.name);
  const service = new NeutronService(store);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const e = err.statusCode && err.statusCode < 500 ? new ApiError(err.statusCode, err.message) : toApiError(err);
    reply.headers(e.headers);
    send(reply, e.status, neutronErrorBody(e));
  });
  app.setNotFoundHandler((_req, reply) => {
    send(reply, 404, neutronErrorBody(notFound('HTTPNotFound', 'The resource could not be found.')));
  });

  app.addHook('onRequest', async (req) => {
    if (req.url === '/' || req.url.startsWith('/?')) return;
    if (!store.backend.available) throw new NsdbUnavailableError('its session is being renewed');
    const token = req.headers['x-auth-token'];
    const user = await auth.authorize(typeof token === 'string' ? token : undefined);
    if (!user) throw new NeutronError(401, 'HTTPUnauthorized', 'Authentication required');
    users.set(req, user);
  });

  app.get('/', async (req, reply) => send(reply, 200, { versions: [versionLink(req)] }));
  // keystoneauth takes a single-version document here; Neutron's own answer lists the resources.
  app.get('/v2.0', async (req, reply) =>
    send(reply, 200, {
      version: versionLink(req),
      resources: COLLECTIONS.map((c) => ({ name: c.resource, collection: c.plural, links: [{ href: `${origin(req)}/v2.0/${c.path}`, rel: 'self' }] })),
    }),
  );
  app.get('/v2.0/extensions', async (_req, reply) => send(reply, 200, { extensions: extensionList() }));
  app.get('/v2.0/extensions/:alias', async (req, reply) => {
    const alias = (req.params as { alias: string }).alias;
    const ext = extensionList().find((e) => e.alias === alias);
    if (!ext) throw notFound('ExtensionNotFound', `Extension with alias ${alias} does not exist`);
    return send(reply, 200, { extension: ext });
  });

  // The L3 service is MidoNet's own (service-type); MidoNet runs no Neutron agents, so the list an
  // admin may read is empty, as is every other caller's.
  app.get('/v2.0/service-providers', async (_req, reply) => send(reply, 200, { service_providers: [{ service_type: 'L3_ROUTER_NAT', name: 'midonet', default: true }] }));
  app.get('/v2.0/agents', async (_req, reply) => send(reply, 200, { agents: [] }));
  const quotas = new Quotas(store);
  type Project = { project: string };
  app.get('/v2.0/quotas', async (req, reply) => send(reply, 200, { quotas: await quotas.list(writer(req)) }));
  app.get('/v2.0/quotas/:project', async (req, reply) => send(reply, 200, { quota: await quotas.show((req.params as Project).project, writer(req)) }));
  app.put('/v2.0/quotas/:project', async (req, reply) => send(reply, 200, { quota: await quotas.update((req.params as Project).project, parse(req.body), writer(req)) }));
  app.delete('/v2.0/quotas/:project', async (req, reply) => {
    await quotas.reset((req.params as Project).project, writer(req));
    return send(reply, 204);
  });
  app.get('/v2.0/quotas/:project/default', async (_req, reply) => send(reply, 200, { quota: DEFAULT_QUOTAS }));
  app.get('/v2.0/quotas/:project/details', async (req, reply) => send(reply, 200, { quota: await quotas.details((req.params as Project).project, writer(req)) }));

  for (const c of COLLECTIONS) {
    const base = `/v2.0/${c.path}`;
    app.get(base, async (req, reply) => {
      const q = req.query as Query;
      const { page, next } = paginate(filter(await service.list(c.resource, writer(req)), q), q, (p) => `${origin(req)}${base}?${p}`);
      const body: Json = { [c.plural]: page.map((o) => project(o, q)) };
      if (next) body[`${c.plural}_links`] = [{ href: next, rel: 'next' }];
      return send(reply, 200, body);
    });
    app.post(base, async (req, reply) => {
      const body = parse(req.body);
      if (c.plural in body) {
        const items = body[c.plural];
        if (!Array.isArray(items)) throw badRequest(`'${c.plural}' must be a list`);
        const made = await service.create(c.resource, items.map((i) => unwrapBulkItem(i, c.resource)), writer(req));
        return send(reply, 201, { [c.plural]: made });
      }
      const [made] = await service.create(c.resource, [unwrap(body, c.resource)], writer(req));
      return send(reply, 201, { [c.resource]: made });
    });
    app.get(`${base}/:id`, async (req, reply) => {
      const obj = await service.get(c.resource, (req.params as { id: string }).id, writer(req));
      return send(reply, 200, { [c.resource]: project(obj, req.query as Query) });
    });
    app.put(`${base}/:id`, async (req, reply) => {
      const obj = await service.update(c.resource, (req.params as { id: string }).id, unwrap(parse(req.body), c.resource), writer(req));
      return send(reply, 200, { [c.resource]: obj });
    });
    app.delete(`${base}/:id`, async (req, reply) => {
      await service.remove(c.resource, (req.params as { id: string }).id, writer(req));
      return send(reply, 204);
    });
    tagRoutes(app, service, base, c.resource);
  }
  app.put('/v2.0/routers/:id/add_router_interface', async (req, reply) =>
    send(reply, 200, await service.addRouterInterface((req.params as { id: string }).id, parse(req.body), writer(req))),
  );
  app.put('/v2.0/routers/:id/remove_router_interface', async (req, reply) =>
    send(reply, 200, await service.removeRouterInterface((req.params as { id: string }).id, parse(req.body), writer(req))),
  );
  return app;
}

const MAX_TAG = 255;

function checkTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag === '' || tag.length > MAX_TAG || tag.includes(',')) {
    throw badRequest(`Invalid input for tags. Reason: '${String(tag)}' is not a valid tag (1 to ${MAX_TAG} characters, no comma).`);
  }
  return tag;
}

/** standard-attr-tag: `/{resource}/{id}/tags[/{tag}]`. */
function tagRoutes(app: FastifyInstance, service: NeutronService, base: string, resource: string): void {
  type P = { id: string; tag?: string };
  const current = async (id: string, req: FastifyRequest) => ((await service.get(resource, id, writer(req))).tags as string[] | undefined) ?? [];
  app.get(`${base}/:id/tags`, async (req, reply) => send(reply, 200, { tags: await current((req.params as P).id, req) }));
  app.put(`${base}/:id/tags`, async (req, reply) => {
    const tags = parse(req.body).tags;
    if (!Array.isArray(tags)) throw badRequest("Invalid input for tags. Reason: 'tags' must be a list.");
    const set = tags.map(checkTag);
    return send(reply, 200, { tags: await service.retag(resource, (req.params as P).id, () => set, writer(req)) });
  });
  app.delete(`${base}/:id/tags`, async (req, reply) => {
    await service.retag(resource, (req.params as P).id, () => [], writer(req));
    return send(reply, 204);
  });
  app.get(`${base}/:id/tags/:tag`, async (req, reply) => {
    const { id, tag } = req.params as P;
    if (!(await current(id, req)).includes(tag!)) throw notFound('TagNotFound', `Tag ${tag} could not be found for ${resource} ${id}.`);
    return send(reply, 204);
  });
  app.put(`${base}/:id/tags/:tag`, async (req, reply) => {
    const { id, tag } = req.params as P;
    const t = checkTag(tag);
    await service.retag(resource, id, (tags) => [...tags, t], writer(req));
    return send(reply, 201);
  });
  app.delete(`${base}/:id/tags/:tag`, async (req, reply) => {
    const { id, tag } = req.params as P;
    if (!(await current(id, req)).includes(tag!)) throw notFound('TagNotFound', `Tag ${tag} could not be found for ${resource} ${id}.`);
    await service.retag(resource, id, (tags) => tags.filter((x) => x !== tag), writer(req));
    return send(reply, 204);
  });
}

/** A bulk item may come bare or wrapped in its resource key. */
function unwrapBulkItem(item: unknown, key: string): unknown {
  return item !== null && typeof item === 'object' && key in item ? (item as Json)[key] : item;
}
