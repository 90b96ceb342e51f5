import { isUuid } from '../../../model/net.ts';
import { StoreConf, type ConfKind } from '../../../conf/conf-store.ts';
import { parseHocon, renderHocon } from '../../../conf/hocon.ts';
import { ApiError, badRequest } from '../errors.ts';
import { noContent, ok, type Ctx, type Endpoint, type Route } from '../http.ts';

const TEXT = { types: ['text/plain'], json: false };

const text = (run: (ctx: Ctx, conf: StoreConf) => Promise<string>): Endpoint => ({
  media: TEXT,
  handle: async (ctx) => ok(await run(ctx, new StoreConf(ctx.store))),
});

async function body(ctx: Ctx): Promise<Record<string, unknown>> {
  const raw = ctx.raw();
  try {
    return await parseHocon(raw);
  } catch (err) {
    throw badRequest(`Invalid HOCON: ${(err as Error).message}`);
  }
}

function hostId(id: string): string {
  if (!isUuid(id)) throw badRequest(`${id} is not a host id`);
  return id.toLowerCase();
}

function doc(kind: Exclude<ConfKind, 'schema'>, name: (ctx: Ctx) => string): Route[] {
  const path = kind === 'template' ? 'templates' : 'nodes';
  return [
    {
      path: `/conf/${path}/:name`,
      get: text(async (ctx, conf) => renderHocon(await conf.get(kind, name(ctx)))),
      post: {
        media: TEXT,
        handle: async (ctx) => {
          await new StoreConf(ctx.store).set(kind, name(ctx), await body(ctx), ctx.query.clear === 'true');
          return noContent();
        },
      },
      delete: {
        handle: async (ctx) => {
          const conf = new StoreConf(ctx.store);
          if (ctx.query.key) await conf.unset(kind, name(ctx), ctx.query.key);
          else await conf.set(kind, name(ctx), {}, true);
          return noContent();
        },
      },
    },
  ];
}

/** MidoNet's `/conf` resource: HOCON as text/plain, the NSDB's configuration documents. */
export function confRoutes(): Route[] {
  return [
    { path: '/conf/schemas', get: text(async (_ctx, conf) => renderHocon(await conf.get('schema', 'all'))) },
    { path: '/conf/templates', get: text(async (_ctx, conf) => (await conf.templates()).join('\n')) },
    ...doc('template', (ctx) => {
      if (!/^[\w.-]{1,64}$/.test(ctx.params.name!)) throw badRequest(`Invalid template name ${ctx.params.name}`);
      return ctx.params.name!;
    }),
    ...doc('node', (ctx) => hostId(ctx.params.name!)),
    { path: '/conf/runtime/:id', get: text(async (ctx, conf) => renderHocon(await conf.runtime(hostId(ctx.params.id!)))) },
    { path: '/conf/template-mappings', get: text(async (_ctx, conf) => renderHocon(await conf.mappings())) },
    {
      path: '/conf/template-mappings/:id',
      post: {
        media: TEXT,
        handle: async (ctx) => {
          const template = ctx.raw().trim();
          const conf = new StoreConf(ctx.store);
          if (!(await conf.templates()).includes(template)) throw new ApiError(404, `No template ${template}`);
          await conf.setMapping(hostId(ctx.params.id!), template);
          return noContent();
        },
      },
      delete: {
        handle: async (ctx) => {
          await new StoreConf(ctx.store).setMapping(hostId(ctx.params.id!), null);
          return noContent();
        },
      },
    },
  ];
}
