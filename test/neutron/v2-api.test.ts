/** The Neutron v2.0 API's queries and updates, and what updates do to the MidoNet topology. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StoreConf } from '../../src/conf/conf-store.ts';
import { NeutronFixture } from '../helpers/neutron.ts';

describe('Neutron v2.0 API', () => {
  let f: NeutronFixture;
  const ids: Record<string, string> = {};
  before(async () => {
    f = await NeutronFixture.start();
    ids.net = (await f.create('networks', 'network', { name: 'n' })).id;
    ids.sub = (await f.create('subnets', 'subnet', { network_id: ids.net, cidr: '10.0.0.0/24' })).id;
  });
  after(() => f.close());
  const midonet = async (path: string) => (await f.midonet.req('GET', path)).json;

  it('answers version discovery and lists its extensions', async () => {
    const root = await f.req('GET', '/');
    assert.equal(root.json.versions[0].id, 'v2.0');
    assert.equal((await f.req('GET', '/v2.0')).json.version.status, 'CURRENT');
    const ext = await f.req('GET', '/v2.0/extensions');
    assert.ok(ext.json.extensions.some((e: { alias: string }) => e.alias === 'security-group'));
    assert.equal((await f.req('GET', '/v2.0/extensions/router')).json.extension.alias, 'router');
    assert.equal((await f.req('GET', '/v2.0/extensions/tag-ports-during-bulk-creation')).status, 404);
    // MidoNet runs no Neutron agents; its L3 service provider is itself.
    assert.deepEqual((await f.req('GET', '/v2.0/agents')).json, { agents: [] });
    assert.equal((await f.req('GET', '/v2.0/service-providers')).json.service_providers[0].service_type, 'L3_ROUTER_NAT');
  });

  it('creates in bulk, filters, projects fields and pages with markers', async () => {
    const bulk = await f.req('POST', '/v2.0/ports', { ports: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ network_id: ids.net, name, device_owner: name === 'e' ? 'network:dhcp' : '' })) });
    assert.equal(bulk.status, 201);
    assert.equal(bulk.json.ports.length, 5);
    const named = await f.req('GET', '/v2.0/ports?name=b&name=c&fields=name&fields=id');
    assert.deepEqual(named.json.ports.map((p: { name: string }) => p.name).sort(), ['b', 'c']);
    assert.deepEqual(Object.keys(named.json.ports[0]).sort(), ['id', 'name']);
    const ip = bulk.json.ports[0].fixed_ips[0].ip_address;
    const byIp = await f.req('GET', `/v2.0/ports?fixed_ips=ip_address%3D${ip}`);
    assert.deepEqual(byIp.json.ports.map((p: { name: string }) => p.name), ['a']);
    // ip-substring-filtering, as tempest's port list tests use it.
    const bySubstr = await f.req('GET', `/v2.0/ports?fixed_ips=ip_address_substr%3D${ip.split('.').slice(0, 3).join('.')}.&fields=name`);
    assert.equal(bySubstr.json.ports.length, 5);
    assert.deepEqual((await f.req('GET', '/v2.0/ports?fixed_ips=ip_address_substr%3D192.168.')).json.ports, []);
    // A filter on what ports do not have is ignored, as Neutron without filter-validation does.
    assert.equal((await f.req('GET', '/v2.0/ports?invalid_filter=x&fields=id')).json.ports.length, 5);
    const owned = await f.req('GET', '/v2.0/ports?device_owner=network%3Adhcp');
    assert.deepEqual(owned.json.ports.map((p: { name: string }) => p.name), ['e']);
    const seen: string[] = [];
    let url: string | null = '/v2.0/ports?limit=2&sort_key=name&sort_dir=asc';
    while (url) {
      const page = await f.req('GET', url);
      seen.push(...page.json.ports.map((p: { name: string }) => p.name));
      const next = page.json.ports_links?.find((l: { rel: string }) => l.rel === 'next')?.href as string | undefined;
      url = next ? next.replace(/^https?:\/\/[^/]+/, '') : null;
    }
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
    assert.equal((await f.req('GET', '/v2.0/networks?router%3Aexternal=False')).json.networks.length, 1);
    const dhcp = await midonet(`/bridges/${ids.net}/dhcp/10.0.0.0_24`);
    const dhcpIp = bulk.json.ports[4].fixed_ips[0].ip_address;
    assert.equal(dhcp.serverAddr, dhcpIp, 'a DHCP port serves the subnet');
    assert.ok(dhcp.opt121Routes.some((r: { destinationPrefix: string; gatewayAddr: string }) => r.destinationPrefix === '169.254.169.254' && r.gatewayAddr === dhcpIp), 'metadata route via the DHCP port');
  });

  it('keeps tags (standard-attr-tag) and filters by them', async () => {
    const path = `/v2.0/networks/${ids.net}/tags`;
    assert.equal((await f.req('PUT', `${path}/red`)).status, 201);
    assert.deepEqual((await f.req('PUT', path, { tags: ['green', 'blue'] })).json.tags, ['blue', 'green']);
    assert.equal((await f.req('GET', `${path}/blue`)).status, 204);
    assert.equal((await f.req('GET', `${path}/red`)).json.NeutronError.type, 'TagNotFound');
    assert.equal((await f.req('GET', '/v2.0/networks?tags=blue,green')).json.networks.length, 1);
    assert.equal((await f.req('GET', '/v2.0/networks?tags-any=red')).json.networks.length, 0);
    assert.equal((await f.req('PUT', path, { tags: ['a,b'] })).status, 400);
    assert.equal((await f.req('DELETE', path)).status, 204);
    assert.deepEqual((await f.req('GET', path)).json.tags, []);
  });

  it('cuts subnets from subnet pools (subnet_allocation), the default pool too', async () => {
    const pool = await f.create('subnetpools', 'subnetpool', { name: 'p', prefixes: ['10.80.0.5/16', '10.80.4.0/22'], default_prefixlen: 24, min_prefixlen: 20, is_default: true });
    assert.deepEqual(pool.prefixes, ['10.80.0.0/16'], 'prefixes kept as network addresses, merged');
    const merged = await f.create('subnetpools', 'subnetpool', { name: 'm', prefixes: ['10.70.1.0/24', '10.70.0.0/24', '10.70.2.0/24', '10.70.3.0/25'] });
    assert.deepEqual(merged.prefixes, ['10.70.0.0/23', '10.70.2.0/24', '10.70.3.0/25'], 'adjacent prefixes merged as Neutron merges them');
    assert.equal((await f.req('DELETE', `/v2.0/subnetpools/${merged.id}`)).status, 204);
    const net = (await f.create('networks', 'network', { name: 'pooled' })).id;
    const cut = async (body: Record<string, unknown>) => f.req('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, ...body } });
    const a = (await cut({ subnetpool_id: pool.id })).json.subnet;
    assert.equal(a.cidr, '10.80.0.0/24');
    assert.equal(a.subnetpool_id, pool.id);
    assert.equal((await cut({ use_default_subnetpool: true, prefixlen: 22 })).json.subnet.cidr, '10.80.4.0/22', 'the next free /22');
    assert.equal((await cut({ subnetpool_id: pool.id, cidr: '10.80.0.128/25' })).status, 409, 'overlaps a subnet of the pool');
    assert.equal((await cut({ subnetpool_id: pool.id, cidr: '10.81.0.0/24' })).status, 400, 'outside the pool');
    assert.equal((await cut({ subnetpool_id: pool.id, cidr: '10.80.9.5/24' })).status, 400, 'not a network address');
    assert.equal((await cut({ subnetpool_id: pool.id, prefixlen: 16 })).status, 400, 'shorter than min_prefixlen');
    assert.equal((await cut({})).status, 400, 'neither a cidr nor a pool');
    assert.equal((await f.req('POST', '/v2.0/subnetpools', { subnetpool: { name: 'q', prefixes: ['10.90.0.0/16'], is_default: true } })).status, 400, 'one default per IP version');
    assert.equal((await f.req('PUT', `/v2.0/subnetpools/${pool.id}`, { subnetpool: { prefixes: ['10.80.0.0/17'] } })).status, 400, 'prefixes only grow');
    assert.deepEqual((await f.req('PUT', `/v2.0/subnetpools/${pool.id}`, { subnetpool: { prefixes: ['10.80.0.0/16', '10.99.0.0/16'] } })).json.subnetpool.prefixes, ['10.80.0.0/16', '10.99.0.0/16']);
    assert.equal((await f.req('PUT', `/v2.0/subnetpools/${pool.id}/tags/blue`)).status, 201);
    assert.equal((await f.req('DELETE', `/v2.0/subnetpools/${pool.id}`)).json.NeutronError.type, 'SubnetPoolInUse');
    assert.equal((await f.req('DELETE', `/v2.0/networks/${net}`)).status, 204);
    assert.equal((await f.req('DELETE', `/v2.0/subnetpools/${pool.id}`)).status, 204);
    assert.equal((await f.req('GET', `/v2.0/subnetpools/${pool.id}`)).json.NeutronError.type, 'SubnetPoolNotFound');
  });

  it('traces from a VM port as the VM: its MAC and address by default, through anti-spoofing', async () => {
    const a = await f.create('ports', 'port', { network_id: ids.net, name: 'trace-a', device_owner: 'compute:nova' });
    const b = await f.create('ports', 'port', { network_id: ids.net, name: 'trace-b', device_owner: 'compute:nova' });
    const r = await f.midonet.req('POST', '/trace', { body: { inPort: a.id, dstIp: b.fixed_ips[0].ip_address, ethDst: b.mac_address, proto: 'udp', dstPort: 53 } });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.action, 'forward', r.json.detailed);
    assert.deepEqual(r.json.outputs.map((o: { portId: string }) => o.portId), [b.id]);
    assert.match(r.json.detailed, new RegExp(`eth ${a.mac_address}`));
  });

  it('follows port updates: addresses, MAC, port security, address pairs', async () => {
    const p = await f.create('ports', 'port', { network_id: ids.net, name: 'vm', device_owner: 'compute:nova' });
    const hosts = async () => (await midonet(`/bridges/${ids.net}/dhcp/10.0.0.0_24/hosts`)).filter((h: { name: string }) => h.name === 'vm');
    assert.equal((await hosts())[0].ipAddr, p.fixed_ips[0].ip_address);
    const moved = await f.req('PUT', `/v2.0/ports/${p.id}`, { port: { fixed_ips: [{ ip_address: '10.0.0.99' }], mac_address: 'fa:16:3e:12:34:56', allowed_address_pairs: [{ ip_address: '10.0.5.0/24' }] } });
    assert.equal(moved.status, 200);
    assert.deepEqual(moved.json.port.allowed_address_pairs, [{ ip_address: '10.0.5.0/24', mac_address: 'fa:16:3e:12:34:56' }]);
    assert.deepEqual((await hosts()).map((h: { ipAddr: string; macAddr: string }) => [h.ipAddr, h.macAddr]), [['10.0.0.99', 'fa:16:3e:12:34:56']]);
    const port = await midonet(`/ports/${p.id}`);
    const inbound = await midonet(`/chains/${port.inboundFilterId}/rules`);
    const spoof = await midonet(`/chains/${inbound[0].jumpChainId}/rules`);
    assert.ok(spoof.some((r: { nwSrcAddress: string; nwSrcLength: number }) => r.nwSrcAddress === '10.0.5.0' && r.nwSrcLength === 24));
    assert.ok(!spoof.some((r: { nwSrcAddress: string }) => r.nwSrcAddress === p.fixed_ips[0].ip_address), 'the old address no longer passes');
    const off = await f.req('PUT', `/v2.0/ports/${p.id}`, { port: { port_security_enabled: false, security_groups: [], allowed_address_pairs: [] } });
    assert.equal(off.status, 200);
    const open = await midonet(`/ports/${p.id}`);
    assert.equal(open.inboundFilterId, null);
    assert.equal((await f.midonet.req('GET', `/chains/${port.inboundFilterId}`)).status, 404, 'its chains are gone');
  });

  it("refuses what Neutron refuses: overlapping interfaces on one router, a second 'default' group", async () => {
    const router = (await f.create('routers', 'router', { name: 'overlap' })).id;
    const n2 = (await f.create('networks', 'network', { name: 'n2' })).id;
    const wide = (await f.create('subnets', 'subnet', { network_id: n2, cidr: '10.0.0.0/16' })).id;
    assert.equal((await f.req('PUT', `/v2.0/routers/${router}/add_router_interface`, { subnet_id: ids.sub })).status, 200);
    const clash = await f.req('PUT', `/v2.0/routers/${router}/add_router_interface`, { subnet_id: wide });
    assert.equal(clash.status, 400);
    assert.match(clash.json.NeutronError.message, /overlaps with cidr 10\.0\.0\.0\/24/);
    assert.equal((await f.req('PUT', `/v2.0/routers/${router}/remove_router_interface`, { subnet_id: ids.sub })).status, 200);
    assert.equal((await f.req('PUT', `/v2.0/routers/${router}`, { router: { routes: null } })).json.router.routes.length, 0, 'routes: null is []');

    // An external network goes with its floating IPs (their ports are the network's own), as in Neutron.
    const ext = (await f.create('networks', 'network', { name: 'ext-gone', 'router:external': true })).id;
    await f.create('subnets', 'subnet', { network_id: ext, cidr: '198.18.0.0/24', enable_dhcp: false });
    const fip = (await f.create('floatingips', 'floatingip', { floating_network_id: ext })).id;
    assert.equal((await f.req('DELETE', `/v2.0/networks/${ext}`)).status, 204);
    assert.equal((await f.req('GET', `/v2.0/floatingips/${fip}`)).status, 404);

    const dflt = await f.req('POST', '/v2.0/security-groups', { security_group: { name: 'default' } });
    assert.equal(dflt.status, 409);
    assert.equal(dflt.json.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
    const sg = (await f.create('security-groups', 'security_group', { name: 'web' })).id;
    assert.equal((await f.req('PUT', `/v2.0/security-groups/${sg}`, { security_group: { name: 'Default' } })).status, 409);
    // Neutron's words for a bad port; a remote group that does not exist is not found, whatever its id looks like.
    const badPort = await f.req('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: -16, port_range_max: 80 } });
    assert.equal(badPort.status, 400);
    assert.match(badPort.json.NeutronError.message, /^Invalid value for port -16$/);
    const icmp = async (min: number | null, max: number | null) =>
      (await f.req('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'icmp', port_range_min: min, port_range_max: max } })).json.NeutronError.message;
    assert.equal(await icmp(1, 256), 'Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255.');
    assert.equal(await icmp(300, 1), 'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.');
    assert.equal(await icmp(null, 6), 'ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing.');
    assert.equal((await f.req('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', remote_group_id: 'bad_group_id' } })).status, 404);
    assert.equal((await f.req('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: sg, direction: 'ingress', remote_group_id: '../../x' } })).status, 404);
    const theDefault = (await f.req('GET', '/v2.0/security-groups?name=default')).json.security_groups[0];
    const rename = await f.req('PUT', `/v2.0/security-groups/${theDefault.id}`, { security_group: { name: 'other' } });
    assert.equal(rename.status, 409);
    assert.equal(rename.json.NeutronError.type, 'SecurityGroupCannotUpdateDefault');
  });

  it('keeps routers in step: extra routes, SNAT off, gateway removed', async () => {
    const ext = (await f.create('networks', 'network', { name: 'ext', 'router:external': true })).id;
    await f.create('subnets', 'subnet', { network_id: ext, cidr: '172.16.0.0/24' });
    const r = await f.create('routers', 'router', { name: 'r', external_gateway_info: { network_id: ext, enable_snat: false } });
    // The SNAT port range comes from mn-conf (cluster.translators.nat), read at each translation.
    await new StoreConf(f.store).set('template', 'default', { 'cluster.translators.nat.dynamic_port_start': 20000, 'cluster.translators.nat.dynamic_port_end': 29999 }, false);
    const snats = async () => (await midonet(`/chains/${(await midonet(`/routers/${r.id}`)).outboundFilterId}/rules`)).filter((x: { type: string }) => x.type === 'snat');
    assert.equal((await snats()).length, 0, 'SNAT disabled');
    await f.req('PUT', `/v2.0/routers/${r.id}`, { router: { external_gateway_info: { network_id: ext, enable_snat: true } } });
    assert.deepEqual((await snats()).map((x: any) => [x.natTargets[0].portFrom, x.natTargets[0].portTo]), [[20000, 29999]]);
    await f.req('PUT', `/v2.0/routers/${r.id}/add_router_interface`, { subnet_id: ids.sub });
    const up = await f.req('PUT', `/v2.0/routers/${r.id}`, { router: { routes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.250' }] } });
    assert.equal(up.status, 200);
    const routes = await midonet(`/routers/${r.id}/routes`);
    assert.ok(routes.some((x: { dstNetworkAddr: string; nextHopGateway: string }) => x.dstNetworkAddr === '192.168.0.0' && x.nextHopGateway === '10.0.0.250'));
    const dhcpPort = (await f.req('GET', '/v2.0/ports?device_owner=network%3Adhcp')).json.ports[0].fixed_ips[0].ip_address;
    assert.ok(routes.some((x: any) => x.dstNetworkAddr === '169.254.169.254' && x.srcNetworkAddr === '10.0.0.0' && x.srcNetworkLength === 24 && x.nextHopGateway === dhcpPort), 'metadata route via the DHCP port');
    await f.req('PUT', `/v2.0/routers/${r.id}`, { router: { routes: [], external_gateway_info: null } });
    const after = await midonet(`/routers/${r.id}/routes`);
    assert.ok(!after.some((x: { dstNetworkAddr: string; dstNetworkLength: number }) => x.dstNetworkAddr === '192.168.0.0' || (x.dstNetworkAddr === '0.0.0.0' && x.dstNetworkLength === 0)));
    assert.equal((await snats()).length, 0);
    assert.equal((await f.req('GET', `/v2.0/ports?device_owner=network%3Arouter_gateway`)).json.ports.length, 0, 'the gateway port is gone');
    const rports = await midonet(`/routers/${r.id}/ports`);
    assert.deepEqual(rports.map((p: { portAddress: string }) => p.portAddress), ['10.0.0.1']);
  });
});
