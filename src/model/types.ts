/**
 * Topology objects as the NSDB stores them (MidoNet's ZOOM model, camelCase). Fields ending in
 * `Ids` that the API does not show are back-references kept by the store's bindings.
 */
export type Uuid = string;

/** Store type names, as in MidoNet's topology.proto (a bridge is a Network there). */
export const T = {
  Router: 'Router',
  Network: 'Network',
  Port: 'Port',
  Route: 'Route',
  Chain: 'Chain',
  Rule: 'Rule',
  Host: 'Host',
  TunnelZone: 'TunnelZone',
  PortGroup: 'PortGroup',
  IpAddrGroup: 'IPAddrGroup',
  BgpPeer: 'BgpPeer',
  BgpNetwork: 'BgpNetwork',
  Dhcp: 'Dhcp',
} as const;
export type TypeName = (typeof T)[keyof typeof T];

interface Filtered {
  inboundFilterId: Uuid | null;
  outboundFilterId: Uuid | null;
  inboundMirrorIds: Uuid[];
  outboundMirrorIds: Uuid[];
}

export interface Router extends Filtered {
  id: Uuid;
  tenantId: string | null;
  name: string | null;
  adminStateUp: boolean;
  loadBalancerId: Uuid | null;
  localRedirectChainId: Uuid | null;
  forwardChainId: Uuid | null;
  asNumber: number | null;
  portIds: Uuid[];
  routeIds: Uuid[];
  bgpNetworkIds: Uuid[];
  bgpPeerIds: Uuid[];
}

export interface Network extends Filtered {
  id: Uuid;
  tenantId: string | null;
  name: string | null;
  adminStateUp: boolean;
  qosPolicyId: Uuid | null;
  portIds: Uuid[];
  vxlanPortIds: Uuid[];
  dhcpIds: Uuid[];
}

export interface Port extends Filtered {
  id: Uuid;
  /** Exactly one device: networkId (bridge port), routerId (router port) or vtepId (VXLAN port). */
  networkId: Uuid | null;
  routerId: Uuid | null;
  vtepId: Uuid | null;
  adminStateUp: boolean;
  tunnelKey: number;
  vifId: Uuid | null;
  hostId: Uuid | null;
  interfaceName: string | null;
  previousHostId: Uuid | null;
  peerId: Uuid | null;
  qosPolicyId: Uuid | null;
  postInFilterMirrorIds: Uuid[];
  preOutFilterMirrorIds: Uuid[];
  insertionIds: Uuid[];
  portGroupIds: Uuid[];
  routeIds: Uuid[];
  /** Bridge ports. */
  vlanId: number | null;
  /** Router ports: CIDRs with the port's own address, e.g. "10.0.0.1/24". */
  portSubnet: string[];
  portMac: string | null;
  rtrPortVni: number | null;
  offRampVxlan: boolean;
  serviceContainerId: Uuid | null;
}

export type RouteType = 'Normal' | 'BlackHole' | 'Reject' | 'Local' | 'Fip64';
export interface Route {
  id: Uuid;
  routerId: Uuid | null;
  nextHopPortId: Uuid | null;
  srcNetworkAddr: string;
  srcNetworkLength: number;
  dstNetworkAddr: string;
  dstNetworkLength: number;
  nextHopGateway: string | null;
  weight: number;
  attributes: string | null;
  type: RouteType;
  learned: boolean;
}

export interface Chain {
  id: Uuid;
  tenantId: string | null;
  name: string | null;
  ruleIds: Uuid[];
  jumpRuleIds: Uuid[];
  networkInboundIds: Uuid[];
  networkOutboundIds: Uuid[];
  routerInboundIds: Uuid[];
  routerOutboundIds: Uuid[];
  routerRedirectIds: Uuid[];
  routerForwardIds: Uuid[];
  portInboundIds: Uuid[];
  portOutboundIds: Uuid[];
}

export interface PortRange {
  start: number;
  end: number;
}

export interface NatTarget {
  addressFrom: string;
  addressTo: string;
  portFrom: number;
  portTo: number;
}

export type FragmentPolicy = 'any' | 'nonheader' | 'header' | 'unfragmented';
export type RuleType =
  | 'accept' | 'drop' | 'reject' | 'return' | 'jump' | 'dnat' | 'snat' | 'rev_dnat' | 'rev_snat'
  | 'l2_transform' | 'trace';
export type FlowAction = 'accept' | 'continue' | 'return' | 'redirect';

/** Every match field of MidoNet's Condition; null or false means "not matched on". */
export interface Condition {
  condInvert: boolean;
  matchForwardFlow: boolean;
  matchReturnFlow: boolean;
  inPorts: Uuid[];
  invInPorts: boolean;
  outPorts: Uuid[];
  invOutPorts: boolean;
  portGroup: Uuid | null;
  invPortGroup: boolean;
  inPortGroup: Uuid | null;
  invInPortGroup: boolean;
  outPortGroup: Uuid | null;
  invOutPortGroup: boolean;
  ipAddrGroupSrc: Uuid | null;
  invIpAddrGroupSrc: boolean;
  ipAddrGroupDst: Uuid | null;
  invIpAddrGroupDst: boolean;
  traversedDevice: Uuid | null;
  invTraversedDevice: boolean;
  noVlan: boolean;
  vlan: number | null;
  dlType: number | null;
  invDlType: boolean;
  dlSrc: string | null;
  dlSrcMask: string | null;
  invDlSrc: boolean;
  dlDst: string | null;
  dlDstMask: string | null;
  invDlDst: boolean;
  nwTos: number | null;
  invNwTos: boolean;
  nwProto: number | null;
  invNwProto: boolean;
  nwSrcAddress: string | null;
  nwSrcLength: number | null;
  invNwSrc: boolean;
  nwDstAddress: string | null;
  nwDstLength: number | null;
  invNwDst: boolean;
  matchNwDstRewritten: boolean;
  fragmentPolicy: FragmentPolicy;
  tpSrc: PortRange | null;
  invTpSrc: boolean;
  tpDst: PortRange | null;
  invTpDst: boolean;
  icmpDataSrcIpAddress: string | null;
  icmpDataSrcIpLength: number | null;
  invIcmpDataSrcIp: boolean;
  icmpDataDstIpAddress: string | null;
  icmpDataDstIpLength: number | null;
  invIcmpDataDstIp: boolean;
}

export interface Rule extends Condition {
  id: Uuid;
  chainId: Uuid;
  type: RuleType;
  meterName: string | null;
  /** jump */
  jumpChainId: Uuid | null;
  jumpChainName: string | null;
  /** dnat, snat, rev_dnat, rev_snat, l2_transform */
  flowAction: FlowAction | null;
  natTargets: NatTarget[] | null;
  /** l2_transform */
  popVlan: boolean;
  pushVlan: number | null;
  targetPortId: Uuid | null;
  ingress: boolean;
  failOpen: boolean;
  /** trace */
  requestId: Uuid | null;
  limit: number | null;
}

export interface Host {
  id: Uuid;
  name: string | null;
  floodingProxyWeight: number;
  containerWeight: number;
  containerLimit: number;
  enforceContainerLimit: boolean;
  portIds: Uuid[];
  tunnelZoneIds: Uuid[];
}

/** What an agent reports about one of its interfaces (state key `host` of a Host). */
export interface HostInterface {
  name: string;
  mac: string | null;
  mtu: number;
  type: 'Physical' | 'Virtual' | 'Tunnel' | 'Unknown';
  endpoint: string;
  portType: string | null;
  addresses: string[];
  status: number;
}

export interface TunnelZone {
  id: Uuid;
  name: string;
  type: 'gre' | 'vxlan' | 'vtep';
  hostIds: Uuid[];
  /** Tunnel address of each member host. */
  hostAddresses: Record<Uuid, string>;
}

export interface PortGroup {
  id: Uuid;
  tenantId: string | null;
  name: string | null;
  stateful: boolean;
  portIds: Uuid[];
  ruleIds: Uuid[];
}

export interface IpAddrGroup {
  id: Uuid;
  name: string;
  addresses: string[];
  inboundChainId: Uuid | null;
  outboundChainId: Uuid | null;
  ruleIds: Uuid[];
}

export interface BgpPeer {
  id: Uuid;
  routerId: Uuid;
  asNumber: number;
  address: string;
  keepAlive: number | null;
  holdTime: number | null;
  connectRetry: number | null;
  password: string | null;
}

export interface BgpNetwork {
  id: Uuid;
  routerId: Uuid;
  subnetAddress: string;
  subnetLength: number;
}

export interface Opt121Route {
  destinationPrefix: string;
  destinationLength: number;
  gatewayAddr: string;
}

export interface DhcpHost {
  macAddr: string;
  ipAddr: string;
  name: string;
  extraDhcpOpts: { optName: string; optValue: string }[];
}

export interface Dhcp {
  id: Uuid;
  networkId: Uuid;
  subnetAddress: string;
  subnetLength: number;
  defaultGateway: string | null;
  serverAddr: string | null;
  dnsServerAddrs: string[] | null;
  interfaceMtu: number | null;
  opt121Routes: Opt121Route[];
  enabled: boolean;
  hosts: DhcpHost[];
}
