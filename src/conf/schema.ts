/**
 * The configuration keys this project honours, with MidoNet's defaults and a description for
 * `mn-conf doc` (MidoNet keeps them as `<key>_description` in its schema files). Every key here
 * changes what a daemon does (test/service/schema.test.ts); others may be set (the seeds set
 * cassandra and zookeeper ones) and are kept, but nothing reads them: ZooKeeper is found through
 * midonet.conf/midolman.conf [zookeeper], as MidoNet does.
 */
export interface SchemaEntry {
  value: string | number | boolean;
  description: string;
}

export const SCHEMA: Record<string, SchemaEntry> = {
  'zookeeper.transaction_attempts': { value: 24, description: 'How many times a storage transaction runs before losing optimistic races is the caller\'s error (read by the cluster at start).' },
  'cluster.auth.provider_class': { value: 'org.midonet.cluster.auth.MockAuthService', description: 'Who checks credentials when no --auth-file is given: MidoNet\'s MockAuthService (everyone the admin) or org.midonet.cluster.auth.keystone.KeystoneService (read by the cluster at start).' },
  'cluster.auth.admin_role': { value: 'admin', description: 'The Keystone role that makes a user the MidoNet admin.' },
  'cluster.auth.tenant_admin_role': { value: 'tenant_admin', description: 'The Keystone role that makes a user a tenant admin.' },
  'cluster.auth.tenant_user_role': { value: 'member', description: 'The Keystone role that makes a user a tenant user.' },
  'cluster.auth.keystone.url': { value: '', description: 'Keystone\'s identity API root (e.g. http://keystone:5000); when empty, protocol://host:port.' },
  'cluster.auth.keystone.protocol': { value: 'http', description: 'Keystone\'s scheme, when no url is given.' },
  'cluster.auth.keystone.host': { value: 'localhost', description: 'Keystone\'s host, when no url is given.' },
  'cluster.auth.keystone.port': { value: 35357, description: 'Keystone\'s port, when no url is given.' },
  'cluster.auth.keystone.tenant_name': { value: 'admin', description: 'The project logins without one, and the cluster\'s service user, are scoped to.' },
  'cluster.auth.keystone.domain_id': { value: 'default', description: 'The Keystone domain of users and projects.' },
  'cluster.auth.keystone.user_name': { value: '', description: 'The cluster\'s service user, which validates tokens when no admin_token is set.' },
  'cluster.auth.keystone.user_password': { value: '', description: 'The service user\'s password.' },
  'cluster.auth.keystone.admin_token': { value: '', description: 'A token the cluster validates others with, instead of its service user\'s.' },
  'cluster.rest_api.enabled': { value: true, description: 'Serve the MidoNet REST API.' },
  'cluster.rest_api.http_host': { value: '0.0.0.0', description: 'Address the REST API listens on.' },
  'cluster.rest_api.http_port': { value: 8181, description: 'Port the REST API listens on.' },
  'cluster.translators.nat.dynamic_port_start': { value: 1024, description: 'First port of the dynamic SNAT range Neutron routers use.' },
  'cluster.translators.nat.dynamic_port_end': { value: 65535, description: 'Last port of the dynamic SNAT range Neutron routers use.' },
  'cluster.compat_2012.anonymous_user': { value: '', description: 'With authentication on, the user that calls without credentials to the 2012 API at /midolmanj-mgmt (CloudStack\'s plugin sends none) act as; empty refuses them. Read at start.' },
  'cluster.topology_api.enabled': { value: true, description: 'Serve the topology stream agents follow.' },
  'agent.datapath.fast_path': { value: true, description: 'Forward flow hits in the kernel (tc eBPF programs on ports and the underlay) where it takes them; false: everything in userspace (applied at run time).' },
  'agent.midolman.dhcp_mtu': { value: 1500, description: 'Interface MTU offered by DHCP when the subnet sets none.' },
  'agent.midolman.enable_bridge_arp': { value: true, description: 'Bridges answer ARP for addresses in their ARP tables.' },
  'agent.midolman.bgp_keepalive': { value: '60s', description: 'BGP keepalive interval, unless the peer sets its own.' },
  'agent.midolman.bgp_holdtime': { value: '180s', description: 'BGP hold time, unless the peer sets its own.' },
  'agent.midolman.bgp_connect_retry': { value: '120s', description: 'BGP connect retry interval, unless the peer sets its own.' },
  'agent.bridge.mac_port_mapping_expire': { value: '15s', description: 'How long a learned MAC stays after its last use.' },
  'agent.arptable.arp_retry_interval': { value: '10s', description: 'Interval between ARP requests for a next hop.' },
  'agent.arptable.arp_timeout': { value: '60s', description: 'Give up on a next hop (ICMP host unreachable) after this long.' },
  'agent.arptable.arp_stale': { value: '60s', description: 'An ARP entry is refreshed after this long.' },
  'agent.arptable.arp_expiration': { value: '90s', description: 'An ARP entry is dropped after this long.' },
  'agent.router.max_bgp_peer_routes': { value: 200, description: 'Most routes accepted from one BGP peer.' },
  'agent.datapath.vxlan_overlay_udp_port': { value: 6677, description: 'UDP port of the VXLAN overlay between agents.' },
  'agent.datapath.max_flow_count': { value: 100000, description: 'Most flows an agent keeps; the least recently used go first.' },
  'agent.openstack.metadata.enabled': { value: false, description: 'Proxy VM requests to 169.254.169.254 to Nova metadata.' },
  'agent.openstack.metadata.nova_metadata_url': { value: 'http://localhost:8775', description: 'Where the Nova metadata service listens.' },
  'agent.openstack.metadata.shared_secret': { value: '', description: 'Secret shared with Nova to sign instance ids (X-Instance-ID-Signature).' },
  'agent.minions.binding_api.unix_socket': { value: '/var/run/midolman/midolman.sock', description: 'Unix socket of the binding API mm-ctl uses.' },
  'agent.loggers.root': { value: 'INFO', description: 'Log level of the agent (TRACE, DEBUG, INFO, WARN, ERROR), applied while it runs.' },
  'cluster.loggers.root': { value: 'INFO', description: 'Log level of the cluster (TRACE, DEBUG, INFO, WARN, ERROR), read at start.' },
};

/** MidoNet's shipped templates: sizing for compute and gateway hosts. */
export const TEMPLATES: Record<string, Record<string, string | number | boolean>> = {
  default: {},
  'agent-compute-medium': { 'agent.datapath.max_flow_count': 350000 },
  'agent-compute-large': { 'agent.datapath.max_flow_count': 1500000 },
  'agent-gateway-medium': { 'agent.datapath.max_flow_count': 1500000 },
  'agent-gateway-large': { 'agent.datapath.max_flow_count': 2500000 },
};
