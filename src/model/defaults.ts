import type { Condition, Rule } from './types.ts';

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

/** A rule of `type` in `chainId` with MidoNet's defaults for everything not given. */
export function newRule(id: string, chainId: string, fields: Partial<Rule> & Pick<Rule, 'type'>): Rule {
  return {
    ...emptyCondition(),
    id, chainId, meterName: null, jumpChainId: null, jumpChainName: null, flowAction: null, natTargets: null,
    popVlan: false, pushVlan: null, targetPortId: null, ingress: false, failOpen: false, requestId: null, limit: null,
    ...fields,
  };
}
