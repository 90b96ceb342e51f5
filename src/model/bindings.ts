import type { Binding, DeleteAction } from '../nsdb/bindings.ts';
import { T } from './types.ts';

const side = (type: string, field: string, list: boolean, onDelete: DeleteAction) => ({ type, field, list, onDelete });
const one = (type: string, field: string, onDelete: DeleteAction) => side(type, field, false, onDelete);
const many = (type: string, field: string, onDelete: DeleteAction) => side(type, field, true, onDelete);

/** A device's filter field and the chain's list of devices using it: deleting either clears the other. */
const filter = (type: string, field: string, chainField: string): Binding => ({
  a: one(type, field, 'clear'),
  b: many(T.Chain, chainField, 'clear'),
});

/**
 * The referential bindings of MidoNet's backend (MidonetBackend.setupBindings), as the store
 * enforces them: deleting the `a` object does `a.onDelete` to what it points at, and vice versa.
 */
export const topologyBindings: readonly Binding[] = [
  { a: many(T.Network, 'portIds', 'cascade'), b: one(T.Port, 'networkId', 'clear') },
  { a: many(T.Router, 'portIds', 'cascade'), b: one(T.Port, 'routerId', 'clear') },
  { a: one(T.Port, 'peerId', 'clear'), b: one(T.Port, 'peerId', 'clear') },
  { a: many(T.Port, 'routeIds', 'cascade'), b: one(T.Route, 'nextHopPortId', 'clear') },
  { a: many(T.Router, 'routeIds', 'cascade'), b: one(T.Route, 'routerId', 'clear') },
  { a: one(T.Port, 'hostId', 'clear'), b: many(T.Host, 'portIds', 'clear') },
  { a: many(T.Port, 'portGroupIds', 'clear'), b: many(T.PortGroup, 'portIds', 'clear') },
  { a: many(T.Host, 'tunnelZoneIds', 'clear'), b: many(T.TunnelZone, 'hostIds', 'clear') },
  { a: many(T.Network, 'dhcpIds', 'cascade'), b: one(T.Dhcp, 'networkId', 'clear') },
  { a: many(T.Router, 'bgpNetworkIds', 'cascade'), b: one(T.BgpNetwork, 'routerId', 'clear') },
  { a: many(T.Router, 'bgpPeerIds', 'cascade'), b: one(T.BgpPeer, 'routerId', 'clear') },
  { a: many(T.Chain, 'ruleIds', 'cascade'), b: one(T.Rule, 'chainId', 'clear') },
  // Deleting a chain deletes the jump rules that lead to it (MidoNet's ChainResource does too).
  { a: many(T.Chain, 'jumpRuleIds', 'cascade'), b: one(T.Rule, 'jumpChainId', 'clear') },
  // A rule matching a deleted group would widen to match everything: delete it instead.
  { a: many(T.IpAddrGroup, 'ruleIds', 'cascade'), b: one(T.Rule, 'ipAddrGroupSrc', 'clear') },
  { a: many(T.IpAddrGroup, 'ruleIds', 'cascade'), b: one(T.Rule, 'ipAddrGroupDst', 'clear') },
  { a: many(T.PortGroup, 'ruleIds', 'cascade'), b: one(T.Rule, 'portGroup', 'clear') },
  { a: many(T.PortGroup, 'ruleIds', 'cascade'), b: one(T.Rule, 'inPortGroup', 'clear') },
  { a: many(T.PortGroup, 'ruleIds', 'cascade'), b: one(T.Rule, 'outPortGroup', 'clear') },
  filter(T.Network, 'inboundFilterId', 'networkInboundIds'),
  filter(T.Network, 'outboundFilterId', 'networkOutboundIds'),
  filter(T.Router, 'inboundFilterId', 'routerInboundIds'),
  filter(T.Router, 'outboundFilterId', 'routerOutboundIds'),
  filter(T.Router, 'localRedirectChainId', 'routerRedirectIds'),
  filter(T.Router, 'forwardChainId', 'routerForwardIds'),
  filter(T.Port, 'inboundFilterId', 'portInboundIds'),
  filter(T.Port, 'outboundFilterId', 'portOutboundIds'),
];
