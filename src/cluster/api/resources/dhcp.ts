import { randomUUID } from 'node:crypto';
import type { Transaction } from '../../../nsdb/transaction.ts';
import { T, type Dhcp, type DhcpHost, type Network } from '../../../model/types.ts';
import { bool, int, ip, mac, objs, str, strs, type Fields } from '../../../model/validation.ts';
import { conflict, notFound } from '../errors.ts';
import { noContent, type Ctx, type Route as ApiRoute } from '../http.ts';
import { deleteEndpoint, getEndpoint, link, mediaOf, postEndpoint, readBody } from './common.ts';

const SUBNET = { name: 'DhcpSubnet', versions: [2], json: { list: false } };
const HOST = { name: 'DhcpHost', versions: [2], json: { list: false } };

const subnetFields: Fields = {
  subnetPrefix: ip(true),
  subnetLength: int({ min: 0, max: 32, required: true }),
  defaultGateway: ip(),
  serverAddr: ip(),
  dnsServerAddrs: strs({ t: 'ip', required: true }, true),
  interfaceMTU: int({ min: 0, max: 65536 }),
  opt121Routes: objs({ destinationPrefix: ip(true), destinationLength: int({ min: 0, max: 32, required: true }), gatewayAddr: ip(true) }),
  enabled: bool(true),
};

const hostFields: Fields = {
  macAddr: mac(true),
  ipAddr: ip(true),
  name: str({ required: true, max: 255 }),
  extraDhcpOpts: objs({ optName: str({ required: true }), optValue: str({ required: true }) }),
};

const subnetKey = (d: Pick<Dhcp, 'subnetAddress' | 'subnetLength'>) => `${d.subnetAddress}_${d.subnetLength}`;
/** MACs in URIs come with ':' or '-'. */
const normMac = (s: string) => decodeURIComponent(s).replace(/-/g, ':').toLowerCase();

function subnetUri(ctx: Ctx, d: Dhcp): string {
  return `${link(ctx, 'bridges', d.networkId)}/dhcp/${subnetKey(d)}`;
}

function renderSubnet(ctx: Ctx, d: Dhcp) {
  const uri = subnetUri(ctx, d);
  return {
    subnetPrefix: d.subnetAddress,
    subnetLength: d.subnetLength,
    defaultGateway: d.defaultGateway,
    serverAddr: d.serverAddr,
    dnsServerAddrs: d.dnsServerAddrs,
    interfaceMTU: d.interfaceMtu,
    opt121Routes: d.opt121Routes,
    enabled: d.enabled,
    uri,
    hosts: `${uri}/hosts`,
  };
}

function renderHost(ctx: Ctx, d: Dhcp, h: DhcpHost) {
  return { macAddr: h.macAddr, ipAddr: h.ipAddr, name: h.name, extraDhcpOpts: h.extraDhcpOpts, uri: `${subnetUri(ctx, d)}/hosts/${h.macAddr}` };
}

async function subnetsOf(read: { get<X extends { id: string }>(t: string, id: string): Promise<X>; tryGet<X extends { id: string }>(t: string, id: string): Promise<X | null> }, bridgeId: string): Promise<Dhcp[]> {
  const b = await read.get<Network>(T.Network, bridgeId);
  const all = await Promise.all(b.dhcpIds.map((id) => read.tryGet<Dhcp>(T.Dhcp, id)));
  return all.filter((d): d is Dhcp => d !== null);
}

async function findSubnet(read: Parameters<typeof subnetsOf>[0], bridgeId: string, key: string): Promise<Dhcp> {
  const d = (await subnetsOf(read, bridgeId)).find((x) => subnetKey(x) === key);
  if (!d) throw notFound(`DHCP subnet ${key} not found on bridge ${bridgeId}`);
  return d;
}

function toDhcp(v: Record<string, unknown>, id: string, networkId: string, hosts: DhcpHost[]): Dhcp {
  return {
    id,
    networkId,
    subnetAddress: v.subnetPrefix as string,
    subnetLength: v.subnetLength as number,
    defaultGateway: v.defaultGateway as string | null,
    serverAddr: v.serverAddr as string | null,
    dnsServerAddrs: v.dnsServerAddrs as string[] | null,
    interfaceMtu: v.interfaceMTU as number | null,
    opt121Routes: v.opt121Routes as Dhcp['opt121Routes'],
    enabled: v.enabled as boolean,
    hosts,
  };
}

/** Rewrites one DHCP subnet's inline host list. */
async function editHosts(tx: Transaction, ctx: Ctx, edit: (d: Dhcp) => DhcpHost[]): Promise<Dhcp> {
  const d = await findSubnet(tx, ctx.params.id!, ctx.params.subnet!);
  const next = { ...d, hosts: edit(d) };
  await tx.update(T.Dhcp, next);
  return next;
}

export function dhcpRoutes(): ApiRoute[] {
  return [
    {
      path: '/bridges/:id/dhcp',
      get: getEndpoint(SUBNET, 'list', async (ctx) => (await subnetsOf(ctx.store, ctx.params.id!)).map((d) => renderSubnet(ctx, d))),
      post: postEndpoint(SUBNET, async (ctx) => {
        const v = readBody(ctx, subnetFields);
        const d = toDhcp(v, randomUUID(), ctx.params.id!, []);
        await ctx.store.tx(async (tx) => {
          if ((await subnetsOf(tx, d.networkId)).some((x) => subnetKey(x) === subnetKey(d))) {
            throw conflict(`DHCP subnet ${subnetKey(d)} already exists on bridge ${d.networkId}.`);
          }
          await tx.create(T.Dhcp, d);
        });
        return subnetUri(ctx, d);
      }),
    },
    {
      path: '/bridges/:id/dhcp/:subnet',
      get: getEndpoint(SUBNET, 'get', async (ctx) => renderSubnet(ctx, await findSubnet(ctx.store, ctx.params.id!, ctx.params.subnet!))),
      put: {
        media: mediaOf(SUBNET).write,
        handle: async (ctx) => {
          const v = readBody(ctx, subnetFields);
          await ctx.store.tx(async (tx) => {
            const old = await findSubnet(tx, ctx.params.id!, ctx.params.subnet!);
            await tx.update(T.Dhcp, toDhcp({ ...v, subnetPrefix: old.subnetAddress, subnetLength: old.subnetLength }, old.id, old.networkId, old.hosts));
          });
          return noContent();
        },
      },
      delete: deleteEndpoint(async (ctx) => {
        await ctx.store.tx(async (tx) => tx.delete(T.Dhcp, (await findSubnet(tx, ctx.params.id!, ctx.params.subnet!)).id));
      }),
    },
    {
      path: '/bridges/:id/dhcp/:subnet/hosts',
      get: getEndpoint(HOST, 'list', async (ctx) => {
        const d = await findSubnet(ctx.store, ctx.params.id!, ctx.params.subnet!);
        return d.hosts.map((h) => renderHost(ctx, d, h));
      }),
      post: postEndpoint(HOST, async (ctx) => {
        const h = readBody(ctx, hostFields) as unknown as DhcpHost;
        const d = await ctx.store.tx((tx) =>
          editHosts(tx, ctx, (cur) => {
            if (cur.hosts.some((x) => x.macAddr === h.macAddr)) throw conflict(`DHCP host ${h.macAddr} already exists.`);
            return [...cur.hosts, h];
          }),
        );
        return `${subnetUri(ctx, d)}/hosts/${h.macAddr}`;
      }),
    },
    {
      path: '/bridges/:id/dhcp/:subnet/hosts/:mac',
      get: getEndpoint(HOST, 'get', async (ctx) => {
        const d = await findSubnet(ctx.store, ctx.params.id!, ctx.params.subnet!);
        const h = d.hosts.find((x) => x.macAddr === normMac(ctx.params.mac!));
        if (!h) throw notFound(`DHCP host ${ctx.params.mac} not found`);
        return renderHost(ctx, d, h);
      }),
      put: {
        media: mediaOf(HOST).write,
        handle: async (ctx) => {
          const h = readBody(ctx, hostFields) as unknown as DhcpHost;
          const mac = normMac(ctx.params.mac!);
          await ctx.store.tx((tx) =>
            editHosts(tx, ctx, (cur) => {
              if (!cur.hosts.some((x) => x.macAddr === mac)) throw notFound(`DHCP host ${mac} not found`);
              return cur.hosts.map((x) => (x.macAddr === mac ? { ...h, macAddr: mac } : x));
            }),
          );
          return noContent();
        },
      },
      delete: deleteEndpoint(async (ctx) => {
        const mac = normMac(ctx.params.mac!);
        await ctx.store.tx((tx) =>
          editHosts(tx, ctx, (cur) => {
            if (!cur.hosts.some((x) => x.macAddr === mac)) throw notFound(`DHCP host ${mac} not found`);
            return cur.hosts.filter((x) => x.macAddr !== mac);
          }),
        );
      }),
    },
  ];
}
