import type { Store } from '../../../nsdb/store.ts';
import { T, type Host, type HostInterface, type Port } from '../../../model/types.ts';
import { bool, int, str, uuid } from '../../../model/validation.ts';
import { ApiError, conflict, notFound } from '../errors.ts';
import { ok, type Ctx, type Route } from '../http.ts';
import { crudRoutes, deleteEndpoint, getEndpoint, link, mediaOf, postEndpoint, readBody } from './common.ts';

/** Host state an agent publishes: the `alive` key while it runs, its interfaces under `host`. */
export async function hostState(store: Store, id: string): Promise<{ alive: boolean; interfaces: HostInterface[] }> {
  const [alive, state] = await Promise.all([
    store.getState({ type: T.Host, id, key: 'alive' }),
    store.getState({ type: T.Host, id, key: 'host' }),
  ]);
  const interfaces = state ? ((JSON.parse(state) as { interfaces?: HostInterface[] }).interfaces ?? []) : [];
  return { alive: alive !== null, interfaces };
}

function renderInterface(ctx: Ctx, hostId: string, i: HostInterface) {
  return {
    hostId,
    name: i.name,
    mac: i.mac,
    mtu: i.mtu,
    status: i.status,
    type: i.type,
    endpoint: i.endpoint,
    portType: i.portType,
    addresses: i.addresses,
    uri: `${link(ctx, 'hosts', hostId)}/interfaces/${encodeURIComponent(i.name)}`,
  };
}

async function renderHost(ctx: Ctx, h: Host) {
  const uri = link(ctx, 'hosts', h.id)!;
  const { alive, interfaces } = await hostState(ctx.store, h.id);
  const dto: Record<string, unknown> = {
    id: h.id,
    name: h.name,
    addresses: [...new Set(interfaces.flatMap((i) => i.addresses))],
    hostInterfaces: interfaces.map((i) => renderInterface(ctx, h.id, i)),
    alive,
    floodingProxyWeight: h.floodingProxyWeight,
    containerWeight: h.containerWeight,
    containerLimit: h.containerLimit,
    enforceContainerLimit: h.enforceContainerLimit,
    uri,
    ports: `${uri}/ports`,
  };
  // Host-v3 and older still link their interfaces (MidoNet's @Until("3")).
  if (ctx.version <= 3) dto.interfaces = `${uri}/interfaces`;
  return dto;
}

const weights = {
  floodingProxyWeight: int({ min: 0, max: 65535, required: true }),
  containerWeight: int({ min: 0, required: true }),
  containerLimit: int({ min: -1, required: true }),
  enforceContainerLimit: bool(false),
};

function renderBinding(ctx: Ctx, p: Port) {
  const uri = `${link(ctx, 'hosts', p.hostId)}/ports/${p.id}`;
  return {
    hostId: p.hostId,
    portId: p.id,
    interfaceName: p.interfaceName,
    uri,
    host: link(ctx, 'hosts', p.hostId),
    port: link(ctx, 'ports', p.id),
  };
}

const HOST = { name: 'Host', versions: [2, 3] };
const BINDING = { name: 'HostInterfacePort', versions: [1], json: { list: false } };
const INTERFACE = { name: 'Interface', versions: [1] };

export function hostRoutes(): Route[] {
  const [all, one] = crudRoutes<Host>({
    path: 'hosts',
    type: T.Host,
    media: HOST,
    ops: 'GLCD',
    deleteStatus: 200,
    fields: {
      id: uuid(),
      name: str({ max: 255 }),
      floodingProxyWeight: int({ min: 0, max: 65535, def: 1 }),
      containerWeight: int({ min: 0, def: 1 }),
      containerLimit: int({ min: -1, def: -1 }),
      enforceContainerLimit: bool(false),
    },
    internal: { portIds: [], tunnelZoneIds: [] },
    render: renderHost,
    remove: async (_ctx, tx, id) => {
      const h = await tx.get<Host>(T.Host, id);
      const { alive } = await hostState(_ctx.store, id);
      if (alive || h.portIds.length > 0) {
        throw new ApiError(403, alive ? `Cannot delete host ${id} because it is active.` : `Cannot delete host ${id} because it has port bindings.`);
      }
      await tx.delete(T.Host, id);
    },
  });
  // PUT changes only the scheduling weights, all four required, and answers 200.
  one!.put = {
    media: mediaOf(HOST).write,
    handle: async (ctx) => {
      const v = readBody(ctx, weights);
      await ctx.store.tx(async (tx) => tx.update(T.Host, { ...(await tx.get<Host>(T.Host, ctx.params.id!)), ...v }));
      return ok(await renderHost(ctx, await ctx.store.get<Host>(T.Host, ctx.params.id!)));
    },
  };

  const interfaces = async (ctx: Ctx) => {
    await ctx.store.get(T.Host, ctx.params.id!);
    return (await hostState(ctx.store, ctx.params.id!)).interfaces;
  };

  return [
    all!,
    one!,
    {
      path: '/hosts/:id/interfaces',
      get: getEndpoint(INTERFACE, 'list', async (ctx) => (await interfaces(ctx)).map((i) => renderInterface(ctx, ctx.params.id!, i))),
    },
    {
      path: '/hosts/:id/interfaces/:name',
      get: getEndpoint(INTERFACE, 'get', async (ctx) => {
        const i = (await interfaces(ctx)).find((x) => x.name === ctx.params.name);
        if (!i) throw notFound(`Interface ${ctx.params.name} not found on host ${ctx.params.id}`);
        return renderInterface(ctx, ctx.params.id!, i);
      }),
    },
    {
      path: '/hosts/:id/ports',
      get: getEndpoint(BINDING, 'list', async (ctx) => {
        const h = await ctx.store.get<Host>(T.Host, ctx.params.id!);
        const ports = await Promise.all(h.portIds.map((p) => ctx.store.tryGet<Port>(T.Port, p)));
        return ports.filter((p): p is Port => p !== null).map((p) => renderBinding(ctx, p));
      }),
      post: postEndpoint(BINDING, async (ctx) => {
        const hostId = ctx.params.id!;
        const v = readBody(ctx, { portId: uuid(true), interfaceName: str({ required: true, min: 1, max: 15 }) });
        await ctx.store.tx(async (tx) => {
          const host = await tx.get<Host>(T.Host, hostId);
          const port = await tx.get<Port>(T.Port, v.portId as string);
          if (host.tunnelZoneIds.length === 0) throw conflict(`Host ${hostId} does not belong to any tunnel zone.`);
          if (port.interfaceName !== null && port.hostId !== null) throw conflict(`Port ${port.id} is already bound to interface ${port.interfaceName} on host ${port.hostId}.`);
          for (const other of host.portIds) {
            const o = await tx.tryGet<Port>(T.Port, other);
            if (o && o.id !== port.id && o.interfaceName === v.interfaceName) {
              throw conflict(`Interface ${String(v.interfaceName)} on host ${hostId} is already bound to port ${o.id}.`);
            }
          }
          await tx.update(T.Port, { ...port, hostId, interfaceName: v.interfaceName as string });
        });
        return `${link(ctx, 'hosts', hostId)}/ports/${String(v.portId)}`;
      }),
    },
    {
      path: '/hosts/:id/ports/:portId',
      get: getEndpoint(BINDING, 'get', async (ctx) => {
        const p = await ctx.store.get<Port>(T.Port, ctx.params.portId!);
        if (p.hostId !== ctx.params.id) throw notFound(`Port ${p.id} is not bound to host ${ctx.params.id}`);
        return renderBinding(ctx, p);
      }),
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => {
          const p = await tx.get<Port>(T.Port, ctx.params.portId!);
          if (p.hostId !== ctx.params.id) throw notFound(`Port ${p.id} is not bound to host ${ctx.params.id}`);
          await tx.update(T.Port, { ...p, previousHostId: p.hostId, hostId: null, interfaceName: null });
        });
      }),
    },
  ];
}
