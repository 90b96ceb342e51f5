/** The Neutron API extensions this server implements, as `GET /v2.0/extensions` lists them. */
const EXTENSIONS: [alias: string, name: string, description: string][] = [
  ['router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.'],
  ['external-net', 'Neutron external network', 'Adds external network attribute to network resource.'],
  ['ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway'],
  ['extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router'],
  ['security-group', 'security-group', 'The security groups extension.'],
  ['port-security', 'Port Security', 'Provides port security'],
  ['allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs'],
  ['binding', 'Port Binding', 'Expose port bindings of a virtual port to external application'],
  ['provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks'],
  ['net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.'],
  ['extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)'],
  ['standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes'],
  ['standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.'],
  ['standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.'],
  ['subnet_allocation', 'Subnet Allocation', 'Enables allocation of subnets from a subnet pool'],
  ['default-subnetpools', 'Default Subnetpools', 'Provides ability to mark and use a subnetpool as the default.'],
  ['quotas', 'Quota management support', 'Expose functions for quotas management per project'],
  ['quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project'],
  ['tag', 'Tag support', 'Enables to set tag on resources.'],
  ['ip-substring-filtering', 'IP address substring filtering', 'Provides IP address substring filtering when listing ports'],
  ['service-type', 'Neutron Service Type Management', 'API for retrieving service providers for Neutron advanced services'],
  ['standard-attr-tag', 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.'],
];

export const extensionList = () =>
  EXTENSIONS.map(([alias, name, description]) => ({ alias, name, description, updated: '2013-01-20T00:00:00-00:00', links: [] }));
