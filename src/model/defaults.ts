import type { Chain, Condition, Network, Port, Route, Router, Rule } from './types.ts';

/** A condition that matches everything: every field unset, nothing inverted. */
export function emptyCondition(): Condition {
  return {
    condInvert: false, matchForwardFlow: false, matchReturnFlow: false,
    inPorts: [], invInPorts: false, outPorts: [], invOutPorts: false,
    portGroup: null, invPortGroup: false, inPortGroup: null, invInPortGroup: false, outPortGroup: null, invOutPortGroup: false,
    ipAddrGroupSrc: null, invIpAddrGroupSrc: false, ipAddrGroupDst: null, invIpAddrGroupDst: false,
    traversedDevice: null, invTraversedDevice: false, noVlan: false, vlan: null,
    dlType: null, invDlType: false, dlSrc: null, dlSrcMask: null, invDlSrc: false, dlDst: null, dlDstMask: null, invDlDst: false,
    nwTos: null, invNwTos: false, nwProto: null, invNwProto: false,
    nwSrcAddress: null, nwSrcLength: null, invNwSrc: false, nwDstAddress: null, nwDstLength: null, invNwDst: false,
    matchNwDstRewritten: false, fragmentPolicy: 'any',
    tpSrc: null, invTpSrc: false, tpDst: null, invTpDst: false,
    icmpDataSrcIpAddress: null, icmpDataSrcIpLength: null, invIcmpDataSrcIp: false,
    icmpDataDstIpAddress: null, icmpDataDstIpLength: null, invIcmpDataDstIp: false,
  };
}

/** What a rule holds when nothing is said, made once: every new rule starts as a shallow copy of it. */
const RULE_DEFAULTS: Readonly<Omit<Rule, 'id' | 'chainId' | 'type'>> = Object.freeze({
  ...emptyCondition(),
  inPorts: Object.freeze([]) as unknown as string[],
  outPorts: Object.freeze([]) as unknown as string[],
  meterName: null, jumpChainId: null, jumpChainName: null, flowAction: null, natTargets: null,
  popVlan: false, pushVlan: null, targetPortId: null, ingress: false, failOpen: false, requestId: null, limit: null,
});

/** A rule of `type` in `chainId` with MidoNet's defaults for everything not given. */
export function newRule(id: string, chainId: string, fields: Partial<Rule> & Pick<Rule, 'type'>): Rule {
  return { ...RULE_DEFAULTS, id, chainId, ...fields };
}

const unfiltered = () => ({ inboundFilterId: null, outboundFilterId: null, inboundMirrorIds: [], outboundMirrorIds: [] });

/** A bridge with nothing attached. */
export function newBridge(id: string, fields: Partial<Network> = {}): Network {
  return { ...unfiltered(), id, tenantId: null, name: null, adminStateUp: true, qosPolicyId: null, portIds: [], vxlanPortIds: [], dhcpIds: [], ...fields };
}

/** A router with no ports, routes or BGP. */
export function newRouter(id: string, fields: Partial<Router> = {}): Router {
  return {
    ...unfiltered(), id, tenantId: null, name: null, adminStateUp: true, loadBalancerId: null, localRedirectChainId: null,
    forwardChainId: null, asNumber: null, portIds: [], routeIds: [], bgpNetworkIds: [], bgpPeerIds: [], ...fields,
  };
}

/** A port of a bridge or router (say which in `fields`), unbound and unlinked. */
export function newPort(id: string, tunnelKey: number, fields: Partial<Port>): Port {
  return {
    ...unfiltered(), id, networkId: null, routerId: null, vtepId: null, adminStateUp: true, tunnelKey, vifId: null, hostId: null,
    interfaceName: null, previousHostId: null, peerId: null, qosPolicyId: null, postInFilterMirrorIds: [], preOutFilterMirrorIds: [],
    insertionIds: [], portGroupIds: [], routeIds: [], vlanId: null, portSubnet: [], portMac: null, rtrPortVni: null,
    offRampVxlan: false, serviceContainerId: null, ...fields,
  };
}

/** An empty chain. */
export function newChain(id: string, name: string | null, tenantId: string | null = null): Chain {
  return {
    id, tenantId, name, ruleIds: [], jumpRuleIds: [], networkInboundIds: [], networkOutboundIds: [], routerInboundIds: [],
    routerOutboundIds: [], routerRedirectIds: [], routerForwardIds: [], portInboundIds: [], portOutboundIds: [],
  };
}

/** A Normal route from anywhere to dst via a router port. */
export function newRoute(id: string, routerId: string, dst: string, length: number, nextHopPortId: string, fields: Partial<Route> = {}): Route {
  return {
    id, routerId, nextHopPortId, srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: dst, dstNetworkLength: length,
    nextHopGateway: null, weight: 100, attributes: null, type: 'Normal', learned: false, ...fields,
  };
}
