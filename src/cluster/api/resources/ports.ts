import { randomUUID } from 'node:crypto';
import { networkOf, parseCidr, randomMac } from '../../../model/net.ts';
import { T, type Network, type Port, type PortGroup, type Router } from '../../../model/types.ts';
import { bool, int, ip, mac, oneOf, str, strs, uuid, uuids, type Fields } from '../../../model/validation.ts';
import { syncLocalRoutes } from '../../topology/local-routes.ts';
import { badRequest, conflict } from '../errors.ts';
import { noContent, type Ctx, type Route as ApiRoute } from '../http.ts';
import { deleteEndpoint, getEndpoint, link, mediaOf, postEndpoint, readBody } from './common.ts';

const PORT = { name: 'Port', versions: [3, 4] };
const PORT_GROUP_PORT = { name: 'PortGroupPort', versions: [1] };

const BRIDGE_TYPES = ['Bridge', 'ExteriorBridge', 'InteriorBridge'];
const ROUTER_TYPES = ['Router', 'ExteriorRouter', 'InteriorRouter'];

const common: Fields = {
  id: uuid(),
  type: oneOf([...BRIDGE_TYPES, ...ROUTER_TYPES, 'Vxlan']),
  adminStateUp: bool(true),
  inboundFilterId: uuid(),
  outboundFilterId: uuid(),
  vifId: uuid(),
  hostId: uuid(),
  interfaceName: str({ max: 255 }),
  peerId: uuid(),
  inboundMirrorIds: uuids(),
  outboundMirrorIds: uuids(),
  qosPolicyId: uuid(),
};

const bridgeFields: Fields = { ...common, vlanId: int({ min: 0, max: 4095, def: 0 }) };

const routerFields: Fields = {
  ...common,
  portAddress: ip(),
  networkAddress: ip(),
  networkLength: int({ min: 0, max: 32 }),
  portSubnet: strs({ t: 'cidr' }),
  portMac: mac(),
  rtrPortVni: int({ min: 0, max: 0xffffff }),
  offRampVxlan: bool(false),
  serviceContainerId: uuid(),
};

/** Fields only the server sets; kept as stored on PUT. */
const SERVER_KEPT = ['tunnelKey', 'portGroupIds', 'routeIds', 'postInFilterMirrorIds', 'preOutFilterMirrorIds', 'insertionIds', 'previousHostId', 'networkId', 'routerId', 'vtepId'] as const;

/** The router port's subnets: portSubnet when given, else portAddress/networkLength. */
function subnetsOf(v: Record<string, unknown>): string[] {
  const given = v.portSubnet as string[];
  if (given.length > 0) return given;
  if (typeof v.portAddress === 'string') return [`${v.portAddress}/${(v.networkLength as number | null) ?? 32}`];
  return [];
}

function toPort(v: Record<string, unknown>, device: { networkId?: string; routerId?: string }): Port {
  const isRouter = device.routerId !== undefined;
  return {
    id: (v.id as string | null) ?? randomUUID(),
    networkId: device.networkId ?? null,
    routerId: device.routerId ?? null,
    vtepId: null,
    adminStateUp: v.adminStateUp as boolean,
    inboundFilterId: v.inboundFilterId as string | null,
    outboundFilterId: v.outboundFilterId as string | null,
    tunnelKey: 0,
    vifId: v.vifId as string | null,
    hostId: v.hostId as string | null,
    interfaceName: v.interfaceName as string | null,
    previousHostId: null,
    peerId: v.peerId as string | null,
    qosPolicyId: v.qosPolicyId as string | null,
    inboundMirrorIds: v.inboundMirrorIds as string[],
    outboundMirrorIds: v.outboundMirrorIds as string[],
    postInFilterMirrorIds: [],
    preOutFilterMirrorIds: [],
    insertionIds: [],
    portGroupIds: [],
    routeIds: [],
    vlanId: isRouter ? null : (v.vlanId as number),
    portSubnet: isRouter ? subnetsOf(v) : [],
    portMac: isRouter ? ((v.portMac as string | null) ?? randomMac()) : null,
    rtrPortVni: isRouter ? (v.rtrPortVni as number | null) : null,
    offRampVxlan: isRouter ? (v.offRampVxlan as boolean) : false,
    serviceContainerId: isRouter ? (v.serviceContainerId as string | null) : null,
  };
}

const portType = (p: Port) => (p.vtepId ? 'Vxlan' : p.networkId ? 'Bridge' : 'Router');

export async function renderPort(ctx: Ctx, p: Port): Promise<Record<string, unknown>> {
  const uri = link(ctx, 'ports', p.id)!;
  const [active, bgp] = await Promise.all([
    ctx.store.getState({ type: T.Port, id: p.id, key: 'active' }),
    p.routerId ? ctx.store.getState({ type: T.Port, id: p.id, key: 'bgp' }) : Promise.resolve(null),
  ]);
  const type = portType(p);
  const deviceId = p.networkId ?? p.routerId ?? p.vtepId;
  const dto: Record<string, unknown> = {
    type,
    id: p.id,
    deviceId,
    adminStateUp: p.adminStateUp,
    inboundFilterId: p.inboundFilterId,
    outboundFilterId: p.outboundFilterId,
    tunnelKey: p.tunnelKey,
    vifId: p.vifId,
    hostId: p.hostId,
    interfaceName: p.interfaceName,
    peerId: p.peerId,
    inboundMirrorIds: p.inboundMirrorIds,
    outboundMirrorIds: p.outboundMirrorIds,
    postInFilterMirrorIds: p.postInFilterMirrorIds,
    preOutFilterMirrorIds: p.preOutFilterMirrorIds,
    insertionIds: p.insertionIds,
    qosPolicyId: p.qosPolicyId,
    active: active !== null,
    uri,
    device: link(ctx, type === 'Bridge' ? 'bridges' : type === 'Router' ? 'routers' : 'vteps', deviceId),
    host: link(ctx, 'hosts', p.hostId),
    peer: link(ctx, 'ports', p.peerId),
    link: `${uri}/link`,
    portGroups: `${uri}/port_groups`,
    hostInterfacePort: p.hostId ? `${link(ctx, 'hosts', p.hostId)}/ports/${p.id}` : null,
    inboundFilter: link(ctx, 'chains', p.inboundFilterId),
    outboundFilter: link(ctx, 'chains', p.outboundFilterId),
  };
  if (type === 'Bridge') dto.vlanId = p.vlanId ?? 0;
  if (type === 'Router') {
    const first = p.portSubnet.map(parseCidr).find((c) => c !== null) ?? null;
    Object.assign(dto, {
      portAddress: first?.address ?? null,
      networkAddress: first ? networkOf(first.address, first.length) : null,
      networkLength: first?.length ?? null,
      portSubnet: p.portSubnet,
      portMac: p.portMac,
      rtrPortVni: p.rtrPortVni,
      offRampVxlan: p.offRampVxlan,
      serviceContainerId: p.serviceContainerId,
      bgpStatus: bgp,
      peeringTable: `${uri}/peering_table`,
      serviceContainer: link(ctx, 'service_containers', p.serviceContainerId),
    });
  }
  if (type === 'Vxlan') dto.vtepId = p.vtepId;
  return dto;
}

function checkType(given: unknown, allowed: string[], device: string): void {
  if (given !== null && !allowed.includes(given as string)) throw badRequest(`Port type ${String(given)} cannot be created on a ${device}`);
}

async function createPort(ctx: Ctx, device: 'bridge' | 'router'): Promise<string> {
  const isRouter = device === 'router';
  const v = readBody(ctx, isRouter ? routerFields : bridgeFields);
  checkType(v.type, isRouter ? ROUTER_TYPES : BRIDGE_TYPES, device);
  const parent = ctx.params.id!;
  const port = toPort(v, isRouter ? { routerId: parent } : { networkId: parent });
  // Check the parent first so an unknown device answers 404 without using a tunnel key.
  await ctx.store.get(isRouter ? T.Router : T.Network, parent);
  port.tunnelKey = await ctx.store.nextTunnelKey();
  await ctx.store.tx(async (tx) => {
    await tx.create(T.Port, port);
    await syncLocalRoutes(tx, { ...port, routeIds: [] });
  });
  return link(ctx, 'ports', port.id)!;
}

async function updatePort(ctx: Ctx): Promise<void> {
  await ctx.store.tx(async (tx) => {
    const old = await tx.get<Port>(T.Port, ctx.params.id!);
    const isRouter = old.routerId !== null;
    const v = readBody(ctx, isRouter ? routerFields : bridgeFields);
    const next = toPort(v, old.routerId ? { routerId: old.routerId } : { networkId: old.networkId ?? undefined });
    next.id = old.id;
    for (const k of SERVER_KEPT) (next as unknown as Record<string, unknown>)[k] = old[k];
    // A binding or link changes only through /hosts/{id}/ports and /ports/{id}/link.
    if (old.hostId !== null) next.hostId = old.hostId;
    if (old.interfaceName !== null) next.interfaceName = old.interfaceName;
    if (old.peerId !== null) next.peerId = old.peerId;
    if (isRouter && v.portMac === null) next.portMac = old.portMac;
    await tx.update(T.Port, next);
    await syncLocalRoutes(tx, next);
  });
}

async function portsOf(ctx: Ctx, ids: string[]): Promise<Port[]> {
  const ports = await Promise.all(ids.map((id) => ctx.store.tryGet<Port>(T.Port, id)));
  return ports.filter((p): p is Port => p !== null);
}

async function peersOf(ctx: Ctx, ids: string[]): Promise<Port[]> {
  const ports = await portsOf(ctx, ids);
  return portsOf(ctx, ports.map((p) => p.peerId).filter((x): x is string => x !== null));
}

const renderAll = (ctx: Ctx, ports: Port[]) => Promise.all(ports.map((p) => renderPort(ctx, p)));

export function portRoutes(): ApiRoute[] {
  const m = mediaOf(PORT);
  const list = (load: (ctx: Ctx) => Promise<Port[]>) => getEndpoint(PORT, 'list', async (ctx) => renderAll(ctx, await load(ctx)));
  return [
    { path: '/ports', get: list(async (ctx) => ctx.store.getAll<Port>(T.Port)) },
    {
      path: '/ports/:id',
      get: getEndpoint(PORT, 'get', async (ctx) => renderPort(ctx, await ctx.store.get<Port>(T.Port, ctx.params.id!))),
      put: { media: m.write, handle: async (ctx) => (await updatePort(ctx), noContent()) },
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => {
          const p = await tx.get<Port>(T.Port, ctx.params.id!);
          if (p.vtepId) throw conflict(`Port ${p.id} is a VXLAN port: remove its VTEP binding instead.`);
          await tx.delete(T.Port, p.id);
        });
      }),
    },
    {
      path: '/routers/:id/ports',
      get: list(async (ctx) => portsOf(ctx, (await ctx.store.get<Router>(T.Router, ctx.params.id!)).portIds)),
      post: postEndpoint(PORT, (ctx) => createPort(ctx, 'router')),
    },
    {
      path: '/bridges/:id/ports',
      get: list(async (ctx) => {
        const b = await ctx.store.get<Network>(T.Network, ctx.params.id!);
        return portsOf(ctx, b.portIds.filter((id) => !b.vxlanPortIds.includes(id)));
      }),
      post: postEndpoint(PORT, (ctx) => createPort(ctx, 'bridge')),
    },
    { path: '/routers/:id/peer_ports', get: list(async (ctx) => peersOf(ctx, (await ctx.store.get<Router>(T.Router, ctx.params.id!)).portIds)) },
    { path: '/bridges/:id/peer_ports', get: list(async (ctx) => peersOf(ctx, (await ctx.store.get<Network>(T.Network, ctx.params.id!)).portIds)) },
    { path: '/bridges/:id/vxlan_ports', get: list(async (ctx) => portsOf(ctx, (await ctx.store.get<Network>(T.Network, ctx.params.id!)).vxlanPortIds)) },
    {
      path: '/ports/:id/link',
      post: {
        media: mediaOf({ name: 'PortLink', versions: [1] }).write,
        handle: async (ctx) => {
          const v = readBody(ctx, { portId: uuid(), peerId: uuid(true) });
          const id = ctx.params.id!;
          await ctx.store.tx(async (tx) => {
            const [a, b] = [await tx.get<Port>(T.Port, id), await tx.get<Port>(T.Port, v.peerId as string)];
            if (a.id === b.id || a.peerId || b.peerId || a.hostId || b.hostId || a.vtepId || b.vtepId) {
              throw conflict('Ports are not linkable.');
            }
            await tx.update(T.Port, { ...a, peerId: b.id });
          });
          return { status: 201, headers: { location: `${link(ctx, 'ports', id)}/link` } };
        },
      },
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => {
          const p = await tx.get<Port>(T.Port, ctx.params.id!);
          if (p.peerId) await tx.update(T.Port, { ...p, peerId: null });
        });
      }),
    },
    {
      path: '/ports/:id/port_groups',
      get: getEndpoint(PORT_GROUP_PORT, 'list', async (ctx) => {
        const p = await ctx.store.get<Port>(T.Port, ctx.params.id!);
        return p.portGroupIds.map((g) => renderPortGroupPort(ctx, g, p.id));
      }),
    },
    ...portGroupMemberRoutes(),
  ];
}

function renderPortGroupPort(ctx: Ctx, groupId: string, portId: string) {
  const uri = `${link(ctx, 'port_groups', groupId)}/ports/${portId}`;
  return { portGroupId: groupId, portId, uri, port: link(ctx, 'ports', portId), portGroup: link(ctx, 'port_groups', groupId) };
}

function portGroupMemberRoutes(): ApiRoute[] {
  return [
    {
      path: '/port_groups/:id/ports',
      get: getEndpoint(PORT_GROUP_PORT, 'list', async (ctx) => {
        const g = await ctx.store.get<PortGroup>(T.PortGroup, ctx.params.id!);
        return g.portIds.map((p) => renderPortGroupPort(ctx, g.id, p));
      }),
      post: postEndpoint(PORT_GROUP_PORT, async (ctx) => {
        const v = readBody(ctx, { portGroupId: uuid(), portId: uuid(true) });
        const portId = v.portId as string;
        await ctx.store.tx(async (tx) => {
          const g = await tx.get<PortGroup>(T.PortGroup, ctx.params.id!);
          await tx.get(T.Port, portId);
          if (g.portIds.includes(portId)) throw conflict(`Port ${portId} is already a member of port group ${g.id}.`);
          await tx.update(T.PortGroup, { ...g, portIds: [...g.portIds, portId] });
        });
        return `${link(ctx, 'port_groups', ctx.params.id)}/ports/${portId}`;
      }),
    },
    {
      path: '/port_groups/:id/ports/:portId',
      get: getEndpoint(PORT_GROUP_PORT, 'get', async (ctx) => {
        const g = await ctx.store.get<PortGroup>(T.PortGroup, ctx.params.id!);
        if (!g.portIds.includes(ctx.params.portId!)) throw conflict(`Port ${ctx.params.portId} is not a member of port group ${g.id}.`);
        return renderPortGroupPort(ctx, g.id, ctx.params.portId!);
      }),
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => {
          const g = await tx.get<PortGroup>(T.PortGroup, ctx.params.id!);
          await tx.update(T.PortGroup, { ...g, portIds: g.portIds.filter((p) => p !== ctx.params.portId) });
        });
      }),
    },
  ];
}

