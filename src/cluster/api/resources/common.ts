import { randomUUID } from 'node:crypto';
import type { Entity } from '../../../nsdb/backend.ts';
import type { Transaction } from '../../../nsdb/transaction.ts';
import { decode, type Fields } from '../../../model/validation.ts';
import { ApiError, validationError } from '../errors.ts';
import { created, noContent, ok, type Ctx, type Endpoint, type Route } from '../http.ts';
import { coll, media, vnd } from '../media.ts';

/** Absolute URI of `path/id` under the API root, or null when there is no id. */
export function link(ctx: Ctx, path: string, id: string | null | undefined): string | null {
  return id ? `${ctx.base}/${path}/${id}` : null;
}

/** Decodes the request body by `fields`, turning violations into MidoNet's 400. */
export function readBody(ctx: Ctx, fields: Fields): Record<string, unknown> {
  const { value, violations } = decode(fields, ctx.body());
  if (violations.length > 0) throw validationError(violations);
  return value;
}

export const newId = (given: unknown): string => (typeof given === 'string' ? given : randomUUID());

/** Lists filtered by `?tenant_id=` where MidoNet filters (routers, bridges, chains, port groups). */
export function byTenant<O extends Entity>(ctx: Ctx, items: O[]): O[] {
  const tenant = ctx.query.tenant_id;
  return tenant === undefined ? items : items.filter((o) => (o as { tenantId?: unknown }).tenantId === tenant);
}

export type Render<O> = (ctx: Ctx, obj: O) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** Media types of one resource: single and collection names and versions, and where plain JSON passes. */
export interface ResourceMedia {
  name: string;
  versions: readonly number[];
  /** Which operations also take application/json (MidoNet's @AllowX lists). */
  json?: { get?: boolean; list?: boolean; write?: boolean };
  /** Older names MidoNet still accepts for the same entity. */
  aliases?: readonly string[];
}

export function mediaOf(m: ResourceMedia) {
  const json = { get: true, list: true, write: true, ...m.json };
  const newestFirst = [...m.versions].sort((a, b) => b - a);
  const names = [m.name, ...(m.aliases ?? [])];
  const all = (f: (name: string, v: number) => string) => names.flatMap((n) => newestFirst.map((v) => f(n, v)));
  return {
    get: media(all(vnd), json.get),
    list: media(all(coll), json.list),
    write: media(all(vnd), json.write),
  };
}

/**
 * A top-level resource stored as one NSDB object per entity: fields the API sets, fields the
 * server keeps (carried over on PUT), and how to render it.
 */
export interface Crud<O extends Entity> {
  path: string;
  type: string;
  media: ResourceMedia;
  fields: Fields;
  /** Server-kept fields with their initial value on create. */
  internal: Partial<O>;
  render: Render<O>;
  ops: string;
  tenantFilter?: boolean;
  /** Extra checks and side effects inside the write transaction. */
  beforeWrite?: (ctx: Ctx, tx: Transaction, obj: O, old: O | null) => Promise<void> | void;
  /** Replaces the generic delete (e.g. MidoNet's 403 on live hosts). */
  remove?: (ctx: Ctx, tx: Transaction, id: string) => Promise<void>;
  deleteStatus?: number;
}

export function crudRoutes<O extends Entity>(def: Crud<O>): Route[] {
  const m = mediaOf(def.media);
  const has = (op: string) => def.ops.includes(op);
  const one: Route = { path: `/${def.path}/:id` };
  const all: Route = { path: `/${def.path}` };
  if (has('G')) {
    one.get = {
      media: m.get,
      handle: async (ctx) => ok(await def.render(ctx, await ctx.store.get<O>(def.type, ctx.params.id!))),
    };
  }
  if (has('L')) {
    all.get = {
      media: m.list,
      handle: async (ctx) => {
        let items = await ctx.store.getAll<O>(def.type);
        if (def.tenantFilter) items = byTenant(ctx, items);
        return ok(await Promise.all(items.map((o) => def.render(ctx, o))));
      },
    };
  }
  if (has('C')) {
    all.post = {
      media: m.write,
      handle: async (ctx) => {
        const value = readBody(ctx, def.fields);
        const obj = { ...structuredClone(def.internal), ...value, id: newId(value.id) } as unknown as O;
        await ctx.store.tx(async (tx) => {
          await def.beforeWrite?.(ctx, tx, obj, null);
          await tx.create(def.type, obj);
        });
        return created(`${ctx.base}/${def.path}/${obj.id}`);
      },
    };
  }
  if (has('U')) {
    one.put = {
      media: m.write,
      handle: async (ctx) => {
        const value = readBody(ctx, def.fields);
        await ctx.store.tx(async (tx) => {
          const old = await tx.get<O>(def.type, ctx.params.id!);
          const kept = Object.fromEntries(Object.keys(def.internal).map((k) => [k, (old as Record<string, unknown>)[k]]));
          const obj = { ...value, ...kept, id: old.id } as unknown as O;
          await def.beforeWrite?.(ctx, tx, obj, old);
          await tx.update(def.type, obj);
        });
        return noContent();
      },
    };
  }
  if (has('D')) {
    one.delete = deleteEndpoint(async (ctx) => {
      await ctx.store.tx((tx) => (def.remove ? def.remove(ctx, tx, ctx.params.id!) : tx.delete(def.type, ctx.params.id!)));
    }, def.deleteStatus);
  }
  return [all, one];
}

export function deleteEndpoint(run: (ctx: Ctx) => Promise<void>, status = 204): Endpoint {
  return {
    handle: async (ctx) => {
      await run(ctx);
      return { status };
    },
  };
}

/** Read-only GET of one entity and of a list, with a resource's media types. */
export function getEndpoint(m: ResourceMedia, kind: 'get' | 'list', load: (ctx: Ctx) => Promise<unknown>): Endpoint {
  return { media: mediaOf(m)[kind], handle: async (ctx) => ok(await load(ctx)) };
}

/** POST that creates something under a parent and answers 201 with its Location. */
export function postEndpoint(m: ResourceMedia, run: (ctx: Ctx) => Promise<string>): Endpoint {
  return { media: mediaOf(m).write, handle: async (ctx) => created(await run(ctx)) };
}

/** A resource MidoNet has that this version does not serve yet: a clear 501, never a fake success. */
export function notImplemented(path: string, what: string): Route[] {
  const endpoint: Endpoint = {
    handle: async () => {
      throw new ApiError(501, `${what} is not supported by this MidoNet API server yet`);
    },
  };
  const r = { get: endpoint, post: endpoint, put: endpoint, delete: endpoint };
  return [
    { path: `/${path}`, ...r },
    { path: `/${path}/*`, ...r },
  ];
}
