/**
 * /midonet-api/neutron as networking-midonet's MidonetApiClient calls it: Neutron's own objects
 * (ids, addresses and ports already decided by Neutron) with the neutron vendor media types.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiFixture, V } from '../helpers/api.ts';
import { everything } from '../helpers/neutron.ts';

const N = (name: string) => V(`neutron.${name}-v1`);

describe('/midonet-api/neutron (networking-midonet)', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  const tenant = 'a1b2c3';
  const net = { id: randomUUID(), name: 'private', tenant_id: tenant, admin_state_up: true, shared: false, status: 'ACTIVE', subnets: [], 'router:external': false, 'provider:network_type': null, mtu: 1450, port_security_enabled: true };
  const subnet = { id: randomUUID(), name: 'private-subnet', network_id: net.id, tenant_id: tenant, ip_version: 4, cidr: '10.1.0.0/24', gateway_ip: '10.1.0.1', allocation_pools: [{ start: '10.1.0.2', end: '10.1.0.254' }], dns_nameservers: [], host_routes: [{ destination: '192.168.0.0/16', nexthop: '10.1.0.254' }], enable_dhcp: true, shared: false, ipv6_ra_mode: null, ipv6_address_mode: null };
  const sg = { id: randomUUID(), name: 'web', description: '', tenant_id: tenant, security_group_rules: [] as unknown[] };
  const router = { id: randomUUID(), name: 'router1', tenant_id: tenant, admin_state_up: true, status: 'ACTIVE', external_gateway_info: null, gw_port_id: null, routes: [] };
  const vif = { id: randomUUID(), name: 'vm1', network_id: net.id, tenant_id: tenant, admin_state_up: true, mac_address: 'fa:16:3e:aa:bb:01', fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.1.0.7' }], device_id: randomUUID(), device_owner: 'compute:nova', status: 'DOWN', security_groups: [sg.id], 'binding:host_id': 'compute1', 'binding:profile': {}, port_security_enabled: true, allowed_address_pairs: [{ ip_address: '10.1.0.200', mac_address: 'fa:16:3e:aa:bb:01' }], extra_dhcp_opts: [] };
  const rif = { id: randomUUID(), name: '', network_id: net.id, tenant_id: tenant, admin_state_up: true, mac_address: 'fa:16:3e:aa:bb:02', fixed_ips: [{ subnet_id: subnet.id, ip_address: '10.1.0.1' }], device_id: router.id, device_owner: 'network:router_interface', status: 'ACTIVE', security_groups: [], 'binding:host_id': '', 'binding:profile': null, port_security_enabled: false, allowed_address_pairs: [], extra_dhcp_opts: [] };

  it('serves the root document the python client resolves URIs from', async () => {
    const r = await api.req('GET', '/neutron', { accept: V('neutron.Neutron-v3') });
    assert.equal(r.status, 200);
    assert.equal(r.json.networks, `${'http://localhost:80/midonet-api'}/neutron/networks`);
    assert.equal(r.json.network_template, 'http://localhost:80/midonet-api/neutron/networks/{id}');
    // The python client substitutes `{id}` only (MidoNet's placeholder).
    assert.equal(r.json.add_router_interface_template, 'http://localhost:80/midonet-api/neutron/routers/{id}/add_router_interface');
    assert.equal(r.json.remove_router_interface_template, 'http://localhost:80/midonet-api/neutron/routers/{id}/remove_router_interface');
    for (const k of ['floating_ips', 'security_group_rule_template', 'load_balancers_v2', 'pool_member_v2_template', 'bgp_speakers', 'tap_service_template', 'logging_resources']) assert.ok(r.json[k], k);
    assert.equal(typeof r.json.load_balancer.vips, 'string');
    assert.equal((await api.req('GET', '/neutron', { accept: 'application/json' })).status, 406, 'vendor types only');
  });

  it('creates what Neutron sends: 201, Location, the entity echoed', async () => {
    const r = await api.req('POST', '/neutron/networks', { body: net, type: N('Network') });
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, `http://localhost:80/midonet-api/neutron/networks/${net.id}`);
    assert.equal(r.headers['content-type'], N('Network'));
    assert.equal(r.json.id, net.id);
    assert.equal(r.json['provider:network_type'], 'midonet');
    const bridge = await api.req('GET', `/bridges/${net.id}`);
    assert.equal(bridge.json.name, 'private');
    assert.equal(bridge.json.tenantId, tenant);
  });

  it('takes bulk creates with the plural type', async () => {
    const r = await api.req('POST', '/neutron/subnets', { body: [subnet], type: N('Subnets') });
    assert.equal(r.status, 201);
    assert.deepEqual(r.json.map((s: { id: string }) => s.id), [subnet.id]);
    const dhcp = await api.req('GET', `/bridges/${net.id}/dhcp/10.1.0.0_24`);
    assert.equal(dhcp.json.defaultGateway, '10.1.0.1');
    assert.deepEqual(dhcp.json.opt121Routes, [{ destinationPrefix: '192.168.0.0', destinationLength: 16, gatewayAddr: '10.1.0.254' }]);
  });

  it('translates a VM port with its security group and a router interface', async () => {
    assert.equal((await api.req('POST', '/neutron/security_groups', { body: sg, type: N('SecurityGroup') })).status, 201);
    const rule = { id: randomUUID(), security_group_id: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', port_range_min: 8, port_range_max: 0, remote_ip_prefix: '0.0.0.0/0', remote_group_id: null, tenant_id: tenant };
    assert.equal((await api.req('POST', '/neutron/security_group_rules', { body: rule, type: N('SecurityGroupRule') })).status, 201);
    assert.equal((await api.req('POST', '/neutron/ports', { body: vif, type: N('Port') })).status, 201);
    const port = await api.req('GET', `/ports/${vif.id}`);
    assert.equal(port.json.deviceId, net.id);
    const spoof = await api.req('GET', `/chains/${(await api.req('GET', `/chains/${port.json.inboundFilterId}/rules`)).json[0].jumpChainId}/rules`);
    const allowed = spoof.json.filter((r: { type: string; nwSrcAddress: string }) => r.type === 'return' && r.nwSrcAddress).map((r: { nwSrcAddress: string }) => r.nwSrcAddress);
    assert.deepEqual([...new Set(allowed)].sort(), ['10.1.0.200', '10.1.0.7'], 'fixed IP and allowed address pair');
    const hosts = await api.req('GET', `/bridges/${net.id}/dhcp/10.1.0.0_24/hosts`);
    assert.deepEqual(hosts.json.map((h: { ipAddr: string }) => h.ipAddr), ['10.1.0.7']);
    const arp = await api.req('GET', `/bridges/${net.id}/arp_table`);
    assert.ok(arp.json.some((e: { ip: string; mac: string }) => e.ip === '10.1.0.7' && e.mac === vif.mac_address));

    assert.equal((await api.req('POST', '/neutron/routers', { body: router, type: N('Router') })).status, 201);
    assert.equal((await api.req('POST', '/neutron/ports', { body: rif, type: N('Port') })).status, 201);
    const add = await api.req('PUT', `/neutron/routers/${router.id}/add_router_interface`, {
      body: { id: router.id, tenant_id: tenant, port_id: rif.id, subnet_id: subnet.id }, type: N('RouterInterface'),
    });
    assert.equal(add.status, 204);
    const rports = await api.req('GET', `/routers/${router.id}/ports`);
    assert.equal(rports.json.length, 1);
    assert.equal(rports.json[0].portAddress, '10.1.0.1');
    assert.equal(rports.json[0].peerId, rif.id);
    assert.equal(rports.json[0].portMac, rif.mac_address);
  });

  it('answers updates with 200 and the entity', async () => {
    const r = await api.req('PUT', `/neutron/networks/${net.id}`, { body: { ...net, name: 'renamed' }, type: N('Network') });
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'renamed');
    assert.equal((await api.req('GET', `/bridges/${net.id}`)).json.name, 'renamed');
    const list = await api.req('GET', '/neutron/networks', { accept: N('Networks') });
    assert.deepEqual(list.json.map((n: { name: string }) => n.name), ['renamed']);
  });

  it('answers a 501 MidoNet error for what it does not translate yet', async () => {
    for (const path of ['/neutron/lbs_v2', '/neutron/lb/pools', '/neutron/firewalls/x', '/neutron/bgp_speakers']) {
      const r = await api.req('POST', path, { body: {}, type: 'application/json' });
      assert.equal(r.status, 501, path);
      assert.match(r.json.message, /not supported/);
    }
  });

  it('maps errors to MidoNet error bodies', async () => {
    const missing = await api.req('GET', `/neutron/ports/${randomUUID()}`, { accept: N('Port') });
    assert.equal(missing.status, 404);
    assert.match(missing.json.message, /Port .* could not be found/);
    const dup = await api.req('POST', '/neutron/networks', { body: net, type: N('Network') });
    assert.equal(dup.status, 409);
    assert.equal((await api.req('POST', '/neutron/networks', { body: net, type: 'application/json' })).status, 406);
    // Neutron names what it creates: a body without an id is refused, and nothing is made.
    const before = (await api.req('GET', '/neutron/security_groups', { accept: N('SecurityGroups') })).json.length;
    const noId = await api.req('POST', '/neutron/security_groups', { body: { name: 'anonymous', tenant_id: tenant }, type: N('SecurityGroup') });
    assert.equal(noId.status, 400);
    assert.match(noId.json.message, /must carry its id/);
    assert.equal((await api.req('GET', '/neutron/security_groups', { accept: N('SecurityGroups') })).json.length, before);
  });

  it('deletes as Neutron tells: a network or subnet with ports left, an interface whose port is gone', async () => {
    const n2 = { ...net, id: randomUUID(), name: 'doomed', subnets: [] };
    const s2 = { ...subnet, id: randomUUID(), network_id: n2.id, cidr: '10.9.0.0/24', gateway_ip: '10.9.0.1', allocation_pools: [{ start: '10.9.0.2', end: '10.9.0.254' }], host_routes: [] };
    const s3 = { ...s2, id: randomUUID(), cidr: '10.19.0.0/24', gateway_ip: '10.19.0.1', allocation_pools: [{ start: '10.19.0.2', end: '10.19.0.254' }] };
    const vm = { ...vif, id: randomUUID(), network_id: n2.id, mac_address: 'fa:16:3e:aa:bb:09', fixed_ips: [{ subnet_id: s2.id, ip_address: '10.9.0.7' }, { subnet_id: s3.id, ip_address: '10.19.0.7' }], security_groups: [], allowed_address_pairs: [] };
    assert.equal((await api.req('POST', '/neutron/networks', { body: n2, type: N('Network') })).status, 201);
    assert.equal((await api.req('POST', '/neutron/subnets', { body: [s2, s3], type: N('Subnets') })).status, 201);
    assert.equal((await api.req('POST', '/neutron/ports', { body: vm, type: N('Port') })).status, 201);
    // The subnet goes; the port keeps its other address.
    assert.equal((await api.req('DELETE', `/neutron/subnets/${s2.id}`)).status, 204);
    const left = await api.req('GET', `/neutron/ports/${vm.id}`, { accept: N('Port') });
    assert.deepEqual(left.json.fixed_ips, [{ subnet_id: s3.id, ip_address: '10.19.0.7' }]);
    assert.equal((await api.req('GET', `/bridges/${n2.id}/dhcp/10.9.0.0_24`)).status, 404);
    // Removing an interface whose port Neutron already deleted is a no-op.
    const r2 = { ...router, id: randomUUID(), name: 'r2' };
    assert.equal((await api.req('POST', '/neutron/routers', { body: r2, type: N('Router') })).status, 201);
    const gone = await api.req('PUT', `/neutron/routers/${r2.id}/remove_router_interface`, { body: { id: r2.id, port_id: randomUUID(), subnet_id: s3.id }, type: N('RouterInterface') });
    assert.equal(gone.status, 204);
    assert.equal((await api.req('DELETE', `/neutron/routers/${r2.id}`)).status, 204);
    // The network goes with the port still on it.
    assert.equal((await api.req('DELETE', `/neutron/networks/${n2.id}`)).status, 204);
    assert.equal((await api.req('GET', `/neutron/ports/${vm.id}`, { accept: N('Port') })).status, 404);
    assert.equal((await api.req('GET', `/bridges/${n2.id}`)).status, 404);
    assert.equal((await api.req('GET', `/ports/${vm.id}`)).status, 404);
  });

  it('deletes with 204, in the order Neutron does, and leaves nothing behind', async () => {
    const del = (path: string) => api.req('DELETE', `/neutron/${path}`);
    assert.equal((await api.req('PUT', `/neutron/routers/${router.id}/remove_router_interface`, { body: { id: router.id, port_id: rif.id, subnet_id: subnet.id }, type: N('RouterInterface') })).status, 204);
    assert.equal((await del(`ports/${rif.id}`)).status, 204);
    assert.equal((await del(`routers/${router.id}`)).status, 204);
    assert.equal((await del(`ports/${vif.id}`)).status, 204);
    assert.equal((await del(`security_groups/${sg.id}`)).status, 204);
    assert.equal((await del(`subnets/${subnet.id}`)).status, 204);
    assert.equal((await del(`networks/${net.id}`)).status, 204);
    assert.deepEqual(await everything(api.store), {});
  });
});
