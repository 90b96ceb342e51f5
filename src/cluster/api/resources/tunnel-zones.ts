import { T, type Host, type TunnelZone } from '../../../model/types.ts';
import { ip, oneOf, str, uuid } from '../../../model/validation.ts';
import { conflict, notFound } from '../errors.ts';
import type { Ctx, Route } from '../http.ts';
import { crudRoutes, deleteEndpoint, getEndpoint, link, postEndpoint, readBody } from './common.ts';

const MEMBER = {
  name: 'TunnelZoneHost',
  versions: [1],
  json: { get: false, list: false, write: false },
  aliases: ['GreTunnelZoneHost'],
};

function renderMember(ctx: Ctx, tz: TunnelZone, hostId: string) {
  const uri = link(ctx, 'tunnel_zones', tz.id)!;
  return {
    tunnelZoneId: tz.id,
    hostId,
    ipAddress: tz.hostAddresses[hostId] ?? null,
    uri: `${uri}/hosts/${hostId}`,
    host: link(ctx, 'hosts', hostId),
    tunnelZone: uri,
  };
}

export function tunnelZoneRoutes(): Route[] {
  return [
    ...crudRoutes<TunnelZone>({
      path: 'tunnel_zones',
      type: T.TunnelZone,
      media: { name: 'TunnelZone', versions: [1] },
      ops: 'GLCUD',
      fields: { id: uuid(), name: str({ required: true, min: 1, max: 255 }), type: oneOf(['gre', 'vxlan', 'vtep'], { required: true, lower: true }) },
      internal: { hostIds: [], hostAddresses: {} },
      render: (ctx, tz) => {
        const uri = link(ctx, 'tunnel_zones', tz.id)!;
        return { id: tz.id, name: tz.name, type: tz.type, uri, hosts: `${uri}/hosts` };
      },
    }),
    {
      path: '/tunnel_zones/:id/hosts',
      get: getEndpoint(MEMBER, 'list', async (ctx) => {
        const tz = await ctx.store.get<TunnelZone>(T.TunnelZone, ctx.params.id!);
        return tz.hostIds.map((h) => renderMember(ctx, tz, h));
      }),
      post: postEndpoint(MEMBER, async (ctx) => {
          const v = readBody(ctx, { hostId: uuid(true), ipAddress: ip(true) });
          const hostId = v.hostId as string;
          await ctx.store.tx(async (tx) => {
            const tz = await tx.get<TunnelZone>(T.TunnelZone, ctx.params.id!);
            await tx.get<Host>(T.Host, hostId);
            if (tz.hostIds.includes(hostId)) throw conflict(`Host ${hostId} is already a member of tunnel zone ${tz.id}.`);
            await tx.update(T.TunnelZone, { ...tz, hostIds: [...tz.hostIds, hostId], hostAddresses: { ...tz.hostAddresses, [hostId]: v.ipAddress as string } });
          });
          return `${link(ctx, 'tunnel_zones', ctx.params.id)}/hosts/${hostId}`;
        }),
    },
    {
      path: '/tunnel_zones/:id/hosts/:hostId',
      get: getEndpoint(MEMBER, 'get', async (ctx) => {
        const tz = await ctx.store.get<TunnelZone>(T.TunnelZone, ctx.params.id!);
        if (!tz.hostIds.includes(ctx.params.hostId!)) throw notFound(`Host ${ctx.params.hostId} is not a member of tunnel zone ${tz.id}`);
        return renderMember(ctx, tz, ctx.params.hostId!);
      }),
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => {
          const tz = await tx.get<TunnelZone>(T.TunnelZone, ctx.params.id!);
          const hostId = ctx.params.hostId!;
          if (!tz.hostIds.includes(hostId)) throw notFound(`Host ${hostId} is not a member of tunnel zone ${tz.id}`);
          const { [hostId]: _gone, ...rest } = tz.hostAddresses;
          await tx.update(T.TunnelZone, { ...tz, hostIds: tz.hostIds.filter((h) => h !== hostId), hostAddresses: rest });
        });
      }),
    },
  ];
}
