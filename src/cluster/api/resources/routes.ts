import { T, type BgpNetwork, type BgpPeer, type Port, type Route, type Router } from '../../../model/types.ts';
import { int, ip, oneOf, str, uuid } from '../../../model/validation.ts';
import { badRequest, conflict } from '../errors.ts';
import { noContent, type Ctx, type Route as ApiRoute } from '../http.ts';
import { deleteEndpoint, getEndpoint, link, mediaOf, newId, postEndpoint, readBody } from './common.ts';

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
        return (await loadAll<Route>(ctx, T.Route, r.routeIds)).map((x) => renderRoute(ctx, x));
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
    {
      path: '/routers/:id/bgp_peers',
      get: getEndpoint(PEER, 'list', async (ctx) => {
        const r = await ctx.store.get<Router>(T.Router, ctx.params.id!);
        return (await loadAll<BgpPeer>(ctx, T.BgpPeer, r.bgpPeerIds)).map((p) => renderPeer(ctx, p));
      }),
      post: postEndpoint(PEER, async (ctx) => {
        const v = readBody(ctx, peerFields);
        const peer = { ...v, id: newId(v.id), routerId: ctx.params.id! } as BgpPeer;
        await ctx.store.tx(async (tx) => {
          const r = await tx.get<Router>(T.Router, peer.routerId);
          const others = await Promise.all(r.bgpPeerIds.map((id) => tx.tryGet<BgpPeer>(T.BgpPeer, id)));
          if (others.some((o) => o?.address === peer.address)) throw conflict(`Router ${r.id} already has a BGP peer at ${peer.address}.`);
          await tx.create(T.BgpPeer, peer);
        });
        return link(ctx, 'bgp_peers', peer.id)!;
      }),
    },
    {
      path: '/bgp_peers/:id',
      get: getEndpoint(PEER, 'get', async (ctx) => renderPeer(ctx, await ctx.store.get<BgpPeer>(T.BgpPeer, ctx.params.id!))),
      put: {
        media: mediaOf(PEER).write,
        handle: async (ctx) => {
          const v = readBody(ctx, peerFields);
          await ctx.store.tx(async (tx) => {
            const old = await tx.get<BgpPeer>(T.BgpPeer, ctx.params.id!);
            await tx.update(T.BgpPeer, { ...v, id: old.id, routerId: old.routerId });
          });
          return noContent();
        },
      },
      delete: deleteEndpoint(async (ctx) => ctx.store.tx((tx) => tx.delete(T.BgpPeer, ctx.params.id!))),
    },
    {
      path: '/routers/:id/bgp_networks',
      get: getEndpoint(NETWORK, 'list', async (ctx) => {
        const r = await ctx.store.get<Router>(T.Router, ctx.params.id!);
        return (await loadAll<BgpNetwork>(ctx, T.BgpNetwork, r.bgpNetworkIds)).map((n) => renderNetwork(ctx, n));
      }),
      post: postEndpoint(NETWORK, async (ctx) => {
        const v = readBody(ctx, { id: uuid(), subnetAddress: ip(true), subnetLength: int({ min: 0, max: 32, def: 0 }) });
        const net = { ...v, id: newId(v.id), routerId: ctx.params.id! } as BgpNetwork;
        await ctx.store.tx(async (tx) => {
          const r = await tx.get<Router>(T.Router, net.routerId);
          const others = await Promise.all(r.bgpNetworkIds.map((id) => tx.tryGet<BgpNetwork>(T.BgpNetwork, id)));
          if (others.some((o) => o?.subnetAddress === net.subnetAddress && o.subnetLength === net.subnetLength)) {
            throw conflict(`Router ${r.id} already advertises ${net.subnetAddress}/${net.subnetLength}.`);
          }
          await tx.create(T.BgpNetwork, net);
        });
        return link(ctx, 'bgp_networks', net.id)!;
      }),
    },
    {
      path: '/bgp_networks/:id',
      get: getEndpoint(NETWORK, 'get', async (ctx) => renderNetwork(ctx, await ctx.store.get<BgpNetwork>(T.BgpNetwork, ctx.params.id!))),
      delete: deleteEndpoint(async (ctx) => ctx.store.tx((tx) => tx.delete(T.BgpNetwork, ctx.params.id!))),
    },
  ];
}
