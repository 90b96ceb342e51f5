import { T, type BgpNetwork, type BgpPeer, type Port, type Route, type Router } from '../../../model/types.ts';
import { int, ip, oneOf, str, uuid, type Fields } from '../../../model/validation.ts';
import { learnedRoutes } from '../../topology/learned-routes.ts';
import { badRequest, conflict } from '../errors.ts';
import { noContent, type Ctx, type Route as ApiRoute } from '../http.ts';
import { deleteEndpoint, getEndpoint, link, mediaOf, newId, postEndpoint, readBody, type ResourceMedia } from './common.ts';

const ROUTE = { name: 'Route', versions: [1] };
const PEER = { name: 'BgpPeer', versions: [1] };
const NETWORK = { name: 'BgpNetwork', versions: [1] };

function renderRoute(ctx: Ctx, r: Route) {
  return {
    id: r.id,
    routerId: r.routerId,
    nextHopPort: r.nextHopPortId,
    attributes: r.attributes,
    srcNetworkAddr: r.srcNetworkAddr,
    srcNetworkLength: r.srcNetworkLength,
    dstNetworkAddr: r.dstNetworkAddr,
    dstNetworkLength: r.dstNetworkLength,
    nextHopGateway: r.nextHopGateway,
    weight: r.weight,
    learned: r.learned,
    type: r.type,
    uri: link(ctx, 'routes', r.id),
    router: link(ctx, 'routers', r.routerId),
  };
}

async function loadAll<O>(ctx: Ctx, type: string, ids: string[]): Promise<O[]> {
  const all = await Promise.all(ids.map((id) => ctx.store.tryGet<O & { id: string }>(type, id)));
  return all.filter((x): x is Awaited<O & { id: string }> => x !== null);
}

function renderPeer(ctx: Ctx, p: BgpPeer) {
  return {
    id: p.id,
    routerId: p.routerId,
    asNumber: p.asNumber,
    address: p.address,
    keepAlive: p.keepAlive,
    holdTime: p.holdTime,
    connectRetry: p.connectRetry,
    password: p.password,
    uri: link(ctx, 'bgp_peers', p.id),
    router: link(ctx, 'routers', p.routerId),
  };
}

function renderNetwork(ctx: Ctx, n: BgpNetwork) {
  return {
    id: n.id,
    routerId: n.routerId,
    subnetAddress: n.subnetAddress,
    subnetLength: n.subnetLength,
    uri: link(ctx, 'bgp_networks', n.id),
    router: link(ctx, 'routers', n.routerId),
  };
}

const peerFields = {
  id: uuid(),
  asNumber: int({ min: 1, max: 4294967295, required: true }),
  address: ip(true),
  keepAlive: int({ min: 5, max: 3600 }),
  holdTime: int({ min: 5, max: 7200 }),
  connectRetry: int({ min: 5, max: 3600 }),
  password: str({ max: 80 }),
};

export function routeRoutes(): ApiRoute[] {
  return [
    {
      path: '/routers/:id/routes',
      get: getEndpoint(ROUTE, 'list', async (ctx) => {
        const r = await ctx.store.get<Router>(T.Router, ctx.params.id!);
        const routes = [...(await loadAll<Route>(ctx, T.Route, r.routeIds)), ...(await learnedRoutes(ctx.store, r.id))];
        return routes.map((x) => renderRoute(ctx, x));
      }),
      post: postEndpoint(ROUTE, async (ctx) => {
        const v = readBody(ctx, {
          id: uuid(),
          srcNetworkAddr: ip(true),
          srcNetworkLength: int({ min: 0, max: 32, def: 0 }),
          dstNetworkAddr: ip(true),
          dstNetworkLength: int({ min: 0, max: 32, def: 0 }),
          nextHopPort: uuid(),
          nextHopGateway: ip(),
          weight: int({ min: 0, def: 0 }),
          attributes: str(),
          type: oneOf(['Normal', 'BlackHole', 'Reject', 'Local', 'Fip64'], { required: true, lower: true }),
        });
        const routerId = ctx.params.id!;
        const route: Route = {
          id: newId(v.id),
          routerId,
          nextHopPortId: v.nextHopPort as string | null,
          srcNetworkAddr: v.srcNetworkAddr as string,
          srcNetworkLength: v.srcNetworkLength as number,
          dstNetworkAddr: v.dstNetworkAddr as string,
          dstNetworkLength: v.dstNetworkLength as number,
          nextHopGateway: v.nextHopGateway as string | null,
          weight: v.weight as number,
          attributes: v.attributes as string | null,
          type: v.type as Route['type'],
          learned: false,
        };
        await ctx.store.tx(async (tx) => {
          await tx.get(T.Router, routerId);
          if (route.type === 'Normal' || route.nextHopPortId) {
            const port = route.nextHopPortId ? await tx.tryGet<Port>(T.Port, route.nextHopPortId) : null;
            if (!port || port.routerId !== routerId) throw badRequest('Route next hop port must be a port of this router');
          }
          await tx.create(T.Route, route);
        });
        return link(ctx, 'routes', route.id)!;
      }),
    },
    {
      path: '/routes/:id',
      get: getEndpoint(ROUTE, 'get', async (ctx) => renderRoute(ctx, await ctx.store.get<Route>(T.Route, ctx.params.id!))),
      delete: deleteEndpoint(async (ctx) => ctx.store.tx((tx) => tx.delete(T.Route, ctx.params.id!))),
    },
    ...routerChildRoutes<BgpPeer>({
      path: 'bgp_peers', type: T.BgpPeer, media: PEER, idsField: 'bgpPeerIds', fields: peerFields, render: renderPeer,
      clash: (a, b) => (a.address === b.address ? `already has a BGP peer at ${b.address}` : null),
      updatable: true,
    }),
    ...routerChildRoutes<BgpNetwork>({
      path: 'bgp_networks', type: T.BgpNetwork, media: NETWORK, idsField: 'bgpNetworkIds', render: renderNetwork,
      fields: { id: uuid(), subnetAddress: ip(true), subnetLength: int({ min: 0, max: 32, def: 0 }) },
      clash: (a, b) => (a.subnetAddress === b.subnetAddress && a.subnetLength === b.subnetLength ? `already advertises ${b.subnetAddress}/${b.subnetLength}` : null),
    }),
  ];
}

interface RouterChild<O extends { id: string; routerId: string }> {
  path: string;
  type: string;
  media: ResourceMedia;
  idsField: 'bgpPeerIds' | 'bgpNetworkIds';
  fields: Fields;
  render: (ctx: Ctx, o: O) => Record<string, unknown>;
  /** Why `b` cannot join a router that has `a`, or null. */
  clash: (a: O, b: O) => string | null;
  updatable?: boolean;
}

/** A router-owned object: list and create under /routers/{id}/<path>, get and delete at /<path>/{id}. */
function routerChildRoutes<O extends { id: string; routerId: string }>(def: RouterChild<O>): ApiRoute[] {
  return [
    {
      path: `/routers/:id/${def.path}`,
      get: getEndpoint(def.media, 'list', async (ctx) => {
        const r = await ctx.store.get<Router>(T.Router, ctx.params.id!);
        return (await loadAll<O>(ctx, def.type, r[def.idsField])).map((o) => def.render(ctx, o));
      }),
      post: postEndpoint(def.media, async (ctx) => {
        const v = readBody(ctx, def.fields);
        const obj = { ...v, id: newId(v.id), routerId: ctx.params.id! } as unknown as O;
        await ctx.store.tx(async (tx) => {
          const r = await tx.get<Router>(T.Router, obj.routerId);
          for (const id of r[def.idsField]) {
            const other = await tx.tryGet<O>(def.type, id);
            const why = other && def.clash(other, obj);
            if (why) throw conflict(`Router ${r.id} ${why}.`);
          }
          await tx.create(def.type, obj);
        });
        return link(ctx, def.path, obj.id)!;
      }),
    },
    {
      path: `/${def.path}/:id`,
      get: getEndpoint(def.media, 'get', async (ctx) => def.render(ctx, await ctx.store.get<O>(def.type, ctx.params.id!))),
      delete: deleteEndpoint(async (ctx) => ctx.store.tx((tx) => tx.delete(def.type, ctx.params.id!))),
      put: def.updatable
        ? {
            media: mediaOf(def.media).write,
            handle: async (ctx) => {
              const v = readBody(ctx, def.fields);
              await ctx.store.tx(async (tx) => {
                const old = await tx.get<O>(def.type, ctx.params.id!);
                await tx.update(def.type, { ...v, id: old.id, routerId: old.routerId });
              });
              return noContent();
            },
          }
        : undefined,
    },
  ];
}
