import { isIP } from 'node:net';
import { arpTableKey, macTableKey } from '../../../model/state-keys.ts';
import { T, type IpAddrGroup, type Network, type Port } from '../../../model/types.ts';
import { int, ip, mac, str, uuid } from '../../../model/validation.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import type { Ctx, Route as ApiRoute } from '../http.ts';
import { crudRoutes, deleteEndpoint, getEndpoint, link, postEndpoint, readBody } from './common.ts';

const MAC_PORT = { name: 'MacPort', versions: [2] };
const IP4_MAC = { name: 'IP4Mac', versions: [1] };
const GROUP = { name: 'IpAddrGroup', versions: [1], json: { get: false } };
const GROUP_ADDR = { name: 'IpAddrGroupAddr', versions: [1], json: { get: false } };

const dashed = (m: string) => m.replace(/:/g, '-');
const coloned = (m: string) => decodeURIComponent(m).replace(/-/g, ':').toLowerCase();

function renderMac(ctx: Ctx, bridge: string, vlan: number, m: string, port: string) {
  const prefix = vlan === 0 ? `${link(ctx, 'bridges', bridge)}` : `${link(ctx, 'bridges', bridge)}/vlans/${vlan}`;
  return { macAddr: m, portId: port, vlanId: vlan, uri: `${prefix}/mac_table/${dashed(m)}_${port}` };
}

async function macEntries(ctx: Ctx, bridge: string, vlan?: number) {
  await ctx.store.get(T.Network, bridge);
  const vlans = vlan === undefined ? (await ctx.store.listState({ type: T.Network, id: bridge, key: 'mac_table' })).map(Number) : [vlan];
  const out = [];
  for (const v of vlans) {
    for (const e of await ctx.store.listState(macTableKey(bridge, v, ''))) {
      const [m, port] = e.split('_');
      out.push(renderMac(ctx, bridge, v, m!, port!));
    }
  }
  return out;
}

function parseEntry(raw: string): [string, string] {
  const i = raw.lastIndexOf('_');
  if (i < 0) throw notFound(`Table entry ${raw} not found`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}

function macTableRoutes(prefix: string, vlanOf: (ctx: Ctx) => number | undefined): ApiRoute[] {
  const vlanNum = (ctx: Ctx) => vlanOf(ctx) ?? 0;
  return [
    {
      path: `${prefix}/mac_table`,
      get: getEndpoint(MAC_PORT, 'list', (ctx) => macEntries(ctx, ctx.params.id!, vlanOf(ctx))),
      post: postEndpoint(MAC_PORT, async (ctx) => {
        const v = readBody(ctx, { macAddr: mac(true), portId: uuid(true), vlanId: int({ min: 0, max: 4095 }) });
        const bridge = ctx.params.id!;
        const vlan = vlanOf(ctx) ?? (v.vlanId as number | null) ?? 0;
        await ctx.store.get<Network>(T.Network, bridge);
        const port = await ctx.store.get<Port>(T.Port, v.portId as string);
        if (port.networkId !== bridge) throw badRequest(`Port ${port.id} is not a port of bridge ${bridge}`);
        // Lower case, as Neutron writes them: entries are found by their name.
        const lower = (v.macAddr as string).toLowerCase();
        await ctx.store.setState(macTableKey(bridge, vlan, lower, port.id), '');
        return renderMac(ctx, bridge, vlan, lower, port.id).uri;
      }),
    },
    {
      path: `${prefix}/mac_table/:entry`,
      get: getEndpoint(MAC_PORT, 'get', async (ctx) => {
        const [m, port] = parseEntry(ctx.params.entry!);
        const key = macTableKey(ctx.params.id!, vlanNum(ctx), coloned(m), port);
        if ((await ctx.store.getState(key)) === null) throw notFound(`MAC table entry ${ctx.params.entry} not found`);
        return renderMac(ctx, ctx.params.id!, vlanNum(ctx), coloned(m), port);
      }),
      delete: deleteEndpoint(async (ctx) => {
        const [m, port] = parseEntry(ctx.params.entry!);
        await ctx.store.get(T.Network, ctx.params.id!);
        await ctx.store.deleteState(macTableKey(ctx.params.id!, vlanNum(ctx), coloned(m), port));
      }),
    },
  ];
}

function renderArp(ctx: Ctx, bridge: string, addr: string, m: string) {
  return { ip: addr, mac: m, uri: `${link(ctx, 'bridges', bridge)}/arp_table/${addr}_${dashed(m)}` };
}

function arpTableRoutes(): ApiRoute[] {
  return [
    {
      path: '/bridges/:id/arp_table',
      get: getEndpoint(IP4_MAC, 'list', async (ctx) => {
        await ctx.store.get(T.Network, ctx.params.id!);
        const ips = await ctx.store.listState(arpTableKey(ctx.params.id!));
        const macs = await Promise.all(ips.map((a) => ctx.store.getState(arpTableKey(ctx.params.id!, a))));
        return ips.flatMap((a, i) => (macs[i] ? [renderArp(ctx, ctx.params.id!, a, macs[i])] : []));
      }),
      post: postEndpoint(IP4_MAC, async (ctx) => {
        const v = readBody(ctx, { ip: ip(true), mac: mac(true) });
        await ctx.store.get(T.Network, ctx.params.id!);
        await ctx.store.setState(arpTableKey(ctx.params.id!, v.ip as string), v.mac as string);
        return renderArp(ctx, ctx.params.id!, v.ip as string, v.mac as string).uri;
      }),
    },
    {
      path: '/bridges/:id/arp_table/:entry',
      get: getEndpoint(IP4_MAC, 'get', async (ctx) => {
        const [addr, m] = parseEntry(ctx.params.entry!);
        const stored = await ctx.store.getState(arpTableKey(ctx.params.id!, addr));
        if (stored !== coloned(m)) throw notFound(`ARP table entry ${ctx.params.entry} not found`);
        return renderArp(ctx, ctx.params.id!, addr, stored);
      }),
      delete: deleteEndpoint(async (ctx) => {
        const [addr, m] = parseEntry(ctx.params.entry!);
        await ctx.store.get(T.Network, ctx.params.id!);
        if ((await ctx.store.getState(arpTableKey(ctx.params.id!, addr))) === coloned(m)) await ctx.store.deleteState(arpTableKey(ctx.params.id!, addr));
      }),
    },
  ];
}

function renderAddr(ctx: Ctx, group: string, addr: string) {
  const version = isIP(addr);
  return {
    addr,
    ipAddrGroupId: group,
    version,
    uri: `${link(ctx, 'ip_addr_groups', group)}/versions/${version}/ip_addrs/${encodeURIComponent(addr)}`,
    ipAddrGroup: link(ctx, 'ip_addr_groups', group),
  };
}

function ipAddrGroupRoutes(): ApiRoute[] {
  return [
    ...crudRoutes<IpAddrGroup>({
      path: 'ip_addr_groups',
      type: T.IpAddrGroup,
      media: GROUP,
      ops: 'GLCD',
      fields: { id: uuid(), name: str({ required: true, max: 255 }), inboundChainId: uuid(), outboundChainId: uuid() },
      internal: { addresses: [], ruleIds: [] },
      render: (ctx, g) => {
        const uri = link(ctx, 'ip_addr_groups', g.id)!;
        return {
          id: g.id,
          name: g.name,
          ipAddrPorts: g.addresses.map((a) => ({ ipAddress: a, portIds: [] })),
          inboundChainId: g.inboundChainId,
          outboundChainId: g.outboundChainId,
          ruleIds: g.ruleIds,
          uri,
          addrs: `${uri}/ip_addrs`,
        };
      },
    }),
    {
      path: '/ip_addr_groups/:id/ip_addrs',
      get: getEndpoint(GROUP_ADDR, 'list', async (ctx) => {
        const g = await ctx.store.get<IpAddrGroup>(T.IpAddrGroup, ctx.params.id!);
        return g.addresses.map((a) => renderAddr(ctx, g.id, a));
      }),
      post: postEndpoint(GROUP_ADDR, async (ctx) => {
        const v = readBody(ctx, { addr: str({ required: true }), ipAddrGroupId: uuid(), version: int() });
        const addr = v.addr as string;
        if (isIP(addr) === 0) throw badRequest(`${addr} is not a valid IP address`);
        await ctx.store.tx(async (tx) => {
          const g = await tx.get<IpAddrGroup>(T.IpAddrGroup, ctx.params.id!);
          if (g.addresses.includes(addr)) throw conflict(`Address ${addr} is already in group ${g.id}.`);
          await tx.update(T.IpAddrGroup, { ...g, addresses: [...g.addresses, addr] });
        });
        return renderAddr(ctx, ctx.params.id!, addr).uri;
      }),
    },
    {
      path: '/ip_addr_groups/:id/versions/:version/ip_addrs/:addr',
      get: getEndpoint(GROUP_ADDR, 'get', async (ctx) => {
        const g = await ctx.store.get<IpAddrGroup>(T.IpAddrGroup, ctx.params.id!);
        const addr = decodeURIComponent(ctx.params.addr!);
        if (!g.addresses.includes(addr)) throw notFound(`Address ${addr} is not in group ${g.id}`);
        return renderAddr(ctx, g.id, addr);
      }),
      delete: deleteEndpoint(async (ctx) => {
        const addr = decodeURIComponent(ctx.params.addr!);
        await ctx.store.tx(async (tx) => {
          const g = await tx.get<IpAddrGroup>(T.IpAddrGroup, ctx.params.id!);
          await tx.update(T.IpAddrGroup, { ...g, addresses: g.addresses.filter((a) => a !== addr) });
        });
      }),
    },
  ];
}

export function tableRoutes(): ApiRoute[] {
  return [
    ...macTableRoutes('/bridges/:id', () => undefined),
    ...macTableRoutes('/bridges/:id/vlans/:vlan', (ctx) => {
      const v = Number(ctx.params.vlan);
      if (!Number.isInteger(v) || v < 0 || v > 4095) throw badRequest(`Invalid VLAN ${ctx.params.vlan}`);
      return v;
    }),
    ...arpTableRoutes(),
    ...ipAddrGroupRoutes(),
  ];
}
