/**
 * Neutron objects as the NSDB keeps them, next to the MidoNet topology they translate to (MidoNet's
 * neutron.proto). They are stored in Neutron's own JSON shape, snake_case, so both fronts answer
 * them as stored.
 */

/** Store type names of the Neutron objects (MidoNet's names). */
export const NT = {
  Network: 'NeutronNetwork',
  Subnet: 'NeutronSubnet',
  Port: 'NeutronPort',
  Router: 'NeutronRouter',
  FloatingIp: 'FloatingIp',
  SecurityGroup: 'SecurityGroup',
  SecurityGroupRule: 'SecurityGroupRule',
  SubnetPool: 'SubnetPool',
  Quota: 'NeutronQuota',
} as const;

/** Fields every Neutron object has (standard attributes). */
export interface Standard {
  id: string;
  tenant_id: string;
  project_id: string;
  description: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface NNetwork extends Standard {
  name: string;
  admin_state_up: boolean;
  status: string;
  shared: boolean;
  'router:external': boolean;
  'provider:network_type': string;
  'provider:physical_network': string | null;
  'provider:segmentation_id': number | null;
  mtu: number;
  port_security_enabled: boolean;
  qos_policy_id: string | null;
  availability_zones: string[];
  availability_zone_hints: string[];
  subnets: string[];
}

export interface AllocationPool {
  start: string;
  end: string;
}

export interface HostRoute {
  destination: string;
  nexthop: string;
}

export interface NSubnet extends Standard {
  name: string;
  network_id: string;
  ip_version: number;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: AllocationPool[];
  dns_nameservers: string[];
  host_routes: HostRoute[];
  enable_dhcp: boolean;
  shared: boolean;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  segment_id: string | null;
  service_types: string[];
}

/** Address space subnets are cut from (subnet_allocation). */
export interface NSubnetPool extends Standard {
  name: string;
  prefixes: string[];
  ip_version: number;
  min_prefixlen: number;
  max_prefixlen: number;
  default_prefixlen: number;
  default_quota: number | null;
  address_scope_id: string | null;
  shared: boolean;
  is_default: boolean;
}

export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

export interface NPort extends Standard {
  name: string;
  network_id: string;
  admin_state_up: boolean;
  mac_address: string;
  fixed_ips: FixedIp[];
  device_id: string;
  device_owner: string;
  status: string;
  security_groups: string[];
  port_security_enabled: boolean;
  allowed_address_pairs: AddressPair[];
  extra_dhcp_opts: { opt_name: string; opt_value: string; ip_version?: number }[];
  'binding:host_id': string;
  'binding:profile': Record<string, unknown>;
  'binding:vif_type': string;
  'binding:vnic_type': string;
  'binding:vif_details': Record<string, unknown>;
  qos_policy_id: string | null;
  dns_name: string;
}

export interface ExternalGatewayInfo {
  network_id: string;
  enable_snat: boolean;
  external_fixed_ips: FixedIp[];
}

export interface NRouter extends Standard {
  name: string;
  admin_state_up: boolean;
  status: string;
  external_gateway_info: ExternalGatewayInfo | null;
  gw_port_id: string | null;
  routes: HostRoute[];
  distributed: boolean;
  ha: boolean;
  availability_zones: string[];
  availability_zone_hints: string[];
}

export interface NFloatingIp extends Standard {
  floating_ip_address: string;
  floating_network_id: string;
  router_id: string | null;
  port_id: string | null;
  fixed_ip_address: string | null;
  status: string;
  /** The Neutron port on the external network that holds the address (device_owner network:floatingip). */
  floating_port_id: string;
  port_forwardings: unknown[];
}

export interface NSecurityGroupRule extends Standard {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
}

export interface NSecurityGroup extends Standard {
  name: string;
  stateful: boolean;
  shared: boolean;
  /** Ids of its rules, in creation order; rendered as the rules themselves. */
  security_group_rules: string[];
}

export const DEVICE_OWNER = {
  dhcp: 'network:dhcp',
  floatingIp: 'network:floatingip',
  routerGateway: 'network:router_gateway',
  routerInterface: 'network:router_interface',
} as const;

/** Ports Neutron itself owns (router, DHCP, floating IP): trusted, no security groups or anti-spoofing. */
export const isNetworkOwned = (p: Pick<NPort, 'device_owner'>): boolean => p.device_owner.startsWith('network:');

export const UPLINK = 'uplink';
/** Where VMs ask for their metadata. */
export const METADATA_ADDRESS = '169.254.169.254';
export const isUplink = (n: Pick<NNetwork, 'provider:network_type'>): boolean => n['provider:network_type'] === UPLINK;
