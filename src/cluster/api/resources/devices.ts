import { T, type Chain, type Network, type PortGroup, type Router } from '../../../model/types.ts';
import { bool, int, str, uuid, uuids, type Fields } from '../../../model/validation.ts';
import { badRequest } from '../errors.ts';
import type { Ctx, Route } from '../http.ts';
import { crudRoutes, link } from './common.ts';

const filters: Fields = {
  inboundFilterId: uuid(),
  outboundFilterId: uuid(),
  inboundMirrorIds: uuids(),
  outboundMirrorIds: uuids(),
};

const named: Fields = { id: uuid(), tenantId: str(), name: str({ max: 255 }) };

function filterLinks(ctx: Ctx, o: { inboundFilterId: string | null; outboundFilterId: string | null }) {
  return { inboundFilter: link(ctx, 'chains', o.inboundFilterId), outboundFilter: link(ctx, 'chains', o.outboundFilterId) };
}

export function routerRoutes(): Route[] {
  return crudRoutes<Router>({
    path: 'routers',
    type: T.Router,
    media: { name: 'Router', versions: [3] },
    ops: 'GLCUD',
    tenantFilter: true,
    fields: {
      ...named,
      adminStateUp: bool(true),
      ...filters,
      loadBalancerId: uuid(),
      localRedirectChainId: uuid(),
      forwardChainId: uuid(),
      asNumber: int({ min: 0, max: 4294967295, def: 0 }),
    },
    internal: { portIds: [], routeIds: [], bgpNetworkIds: [], bgpPeerIds: [] },
    render: (ctx, r) => {
      const uri = link(ctx, 'routers', r.id)!;
      return {
        id: r.id,
        tenantId: r.tenantId,
        name: r.name,
        adminStateUp: r.adminStateUp,
        inboundFilterId: r.inboundFilterId,
        outboundFilterId: r.outboundFilterId,
        loadBalancerId: r.loadBalancerId,
        localRedirectChainId: r.localRedirectChainId,
        forwardChainId: r.forwardChainId,
        asNumber: r.asNumber ?? 0,
        inboundMirrorIds: r.inboundMirrorIds,
        outboundMirrorIds: r.outboundMirrorIds,
        uri,
        ...filterLinks(ctx, r),
        ports: `${uri}/ports`,
        peerPorts: `${uri}/peer_ports`,
        routes: `${uri}/routes`,
        loadBalancer: link(ctx, 'load_balancers', r.loadBalancerId),
        bgpNetworks: `${uri}/bgp_networks`,
        bgpPeers: `${uri}/bgp_peers`,
        localRedirectChain: link(ctx, 'chains', r.localRedirectChainId),
        forwardChain: link(ctx, 'chains', r.forwardChainId),
      };
    },
  });
}

export function bridgeRoutes(): Route[] {
  return crudRoutes<Network>({
    path: 'bridges',
    type: T.Network,
    media: { name: 'Bridge', versions: [4, 5] },
    ops: 'GLCUD',
    tenantFilter: true,
    fields: { ...named, adminStateUp: bool(true), ...filters, qosPolicyId: uuid(), vxLanPortIds: uuids() },
    internal: { portIds: [], vxlanPortIds: [], dhcpIds: [] },
    beforeWrite: (_ctx, _tx, b, old) => {
      const given = (b as { vxLanPortIds?: string[] }).vxLanPortIds ?? [];
      const current = old?.vxlanPortIds ?? [];
      if (given.length > 0 && given.join() !== current.join()) throw badRequest('vxLanPortIds is read-only');
      delete (b as { vxLanPortIds?: string[] }).vxLanPortIds;
    },
    render: (ctx, b) => {
      const uri = link(ctx, 'bridges', b.id)!;
      return {
        id: b.id,
        tenantId: b.tenantId,
        name: b.name,
        adminStateUp: b.adminStateUp,
        inboundFilterId: b.inboundFilterId,
        outboundFilterId: b.outboundFilterId,
        vxLanPortIds: b.vxlanPortIds,
        inboundMirrorIds: b.inboundMirrorIds,
        outboundMirrorIds: b.outboundMirrorIds,
        qosPolicyId: b.qosPolicyId,
        uri,
        ...filterLinks(ctx, b),
        ports: `${uri}/ports`,
        peerPorts: `${uri}/peer_ports`,
        vxLanPorts: `${uri}/vxlan_ports`,
        macTable: `${uri}/mac_table`,
        arpTable: `${uri}/arp_table`,
        dhcpSubnets: `${uri}/dhcp`,
        dhcpSubnet6s: `${uri}/dhcpV6`,
        vlanMacTableTemplate: `${uri}/vlans/{vlanId}/mac_table`,
        macPortTemplate: `${uri}/mac_table/{macAddress}_{portId}`,
        vlanMacPortTemplate: `${uri}/vlans/{vlanId}/mac_table/{macAddress}_{portId}`,
      };
    },
  });
}

export function chainRoutes(): Route[] {
  return crudRoutes<Chain>({
    path: 'chains',
    type: T.Chain,
    media: { name: 'Chain', versions: [1] },
    ops: 'GLCD',
    tenantFilter: true,
    fields: named,
    internal: {
      ruleIds: [], jumpRuleIds: [], networkInboundIds: [], networkOutboundIds: [], routerInboundIds: [],
      routerOutboundIds: [], routerRedirectIds: [], routerForwardIds: [], portInboundIds: [], portOutboundIds: [],
    },
    render: (ctx, c) => {
      const uri = link(ctx, 'chains', c.id)!;
      return { id: c.id, tenantId: c.tenantId, name: c.name, uri, rules: `${uri}/rules` };
    },
  });
}

export function portGroupRoutes(): Route[] {
  return crudRoutes<PortGroup>({
    path: 'port_groups',
    type: T.PortGroup,
    media: { name: 'PortGroup', versions: [1], json: { get: false } },
    ops: 'GLCUD',
    tenantFilter: true,
    fields: { ...named, stateful: bool(false) },
    internal: { portIds: [], ruleIds: [] },
    render: (ctx, g) => {
      const uri = link(ctx, 'port_groups', g.id)!;
      return { id: g.id, tenantId: g.tenantId, name: g.name, stateful: g.stateful, uri, ports: `${uri}/ports` };
    },
  });
}
