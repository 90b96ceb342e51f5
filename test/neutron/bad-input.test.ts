/** Refused Neutron requests: Neutron's fault types and codes, and nothing written. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { dump, NeutronFixture } from '../helpers/neutron.ts';

describe('Neutron API bad input', () => {
  let f: NeutronFixture;
  const ids: Record<string, string> = {};
  before(async () => {
    f = await NeutronFixture.start();
    ids.net = (await f.create('networks', 'network', { name: 'n' })).id;
    ids.sub = (await f.create('subnets', 'subnet', { network_id: ids.net, cidr: '10.0.0.0/24', ip_version: 4 })).id;
    ids.port = (await f.create('ports', 'port', { network_id: ids.net, fixed_ips: [{ ip_address: '10.0.0.10' }] })).id;
    ids.ext = (await f.create('networks', 'network', { name: 'ext', 'router:external': true })).id;
    ids.extSub = (await f.create('subnets', 'subnet', { network_id: ids.ext, cidr: '172.16.0.0/30', ip_version: 4 })).id;
    ids.router = (await f.create('routers', 'router', { name: 'r' })).id;
  });
  after(() => f.close());

  /** Sends the request, checks status and fault type, and that the NSDB is exactly as before. */
  async function refused(method: string, path: string, body: unknown, status: number, type: string, message?: RegExp): Promise<void> {
    const before = await dump(f.store);
    const r = await f.req(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.NeutronError.type, type);
    assert.equal(r.json.NeutronError.detail, '');
    if (message) assert.match(r.json.NeutronError.message, message);
    assert.deepEqual(await dump(f.store), before, `${method} ${path} changed nothing`);
  }

  it('a port on a network that does not exist', () =>
    refused('POST', '/v2.0/ports', { port: { network_id: randomUUID() } }, 404, 'NetworkNotFound', /Network .* could not be found/));

  it('an overlapping subnet', () =>
    refused('POST', '/v2.0/subnets', { subnet: { network_id: ids.net, cidr: '10.0.0.128/25', ip_version: 4 } }, 400, 'InvalidInput', /overlaps with another subnet/));

  it('an address outside the subnet, or taken', async () => {
    await refused('POST', '/v2.0/ports', { port: { network_id: ids.net, fixed_ips: [{ ip_address: '192.168.1.1' }] } }, 400, 'HTTPBadRequest', /not a valid IP for any of the subnets/);
    await refused('POST', '/v2.0/ports', { port: { network_id: ids.net, fixed_ips: [{ subnet_id: ids.sub, ip_address: '10.0.1.1' }] } }, 400, 'HTTPBadRequest', /not a valid IP for the specified subnet/);
    await refused('POST', '/v2.0/ports', { port: { network_id: ids.net, fixed_ips: [{ ip_address: '10.0.0.10' }] } }, 409, 'IpAddressAlreadyAllocated');
  });

  it('deleting a network or subnet that ports still use', async () => {
    await refused('DELETE', `/v2.0/networks/${ids.net}`, undefined, 409, 'NetworkInUse', /ports still in use/);
    await refused('DELETE', `/v2.0/subnets/${ids.sub}`, undefined, 409, 'SubnetInUse');
  });

  it('a port naming a group that does not exist makes no default group either', () =>
    refused('POST', '/v2.0/ports', { port: { network_id: ids.net, security_groups: [randomUUID()] } }, 404, 'SecurityGroupNotFound'));

  it('malformed bodies and attributes', async () => {
    await refused('POST', '/v2.0/networks', '{"network": ', 400, 'HTTPBadRequest', /Malformed request body/);
    await refused('POST', '/v2.0/networks', { net: {} }, 400, 'HTTPBadRequest', /Unable to find 'network'/);
    await refused('POST', '/v2.0/networks', { network: { colour: 'blue' } }, 400, 'HTTPBadRequest', /Unrecognized attribute\(s\) 'colour'/);
    await refused('POST', '/v2.0/networks', { network: { admin_state_up: 'maybe' } }, 400, 'HTTPBadRequest', /Invalid input for admin_state_up/);
    await refused('POST', '/v2.0/subnets', { subnet: { network_id: ids.net, cidr: '10.5.0.0/33' } }, 400, 'HTTPBadRequest', /Invalid input for cidr/);
    await refused('POST', '/v2.0/subnets', { subnet: { network_id: ids.net, cidr: '10.5.0.1/24' } }, 400, 'HTTPBadRequest', /network address/);
    await refused('POST', '/v2.0/subnets', { subnet: { network_id: ids.net } }, 400, 'HTTPBadRequest', /a subnetpool must be specified in the absence of a cidr/);
    await refused('PUT', `/v2.0/ports/${ids.port}`, { port: { network_id: ids.ext } }, 400, 'HTTPBadRequest', /read-only attribute network_id/);
    await refused('POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: randomUUID(), direction: 'sideways' } }, 400, 'HTTPBadRequest');
  });

  it('routers: a gateway on an internal network, unreachable routes, interfaces twice', async () => {
    await refused('PUT', `/v2.0/routers/${ids.router}`, { router: { external_gateway_info: { network_id: ids.net } } }, 400, 'HTTPBadRequest', /not an external network/);
    await refused('PUT', `/v2.0/routers/${ids.router}`, { router: { routes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.254' }] } }, 400, 'InvalidInput', /not connected/);
    await refused('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, {}, 400, 'HTTPBadRequest', /Either subnet_id or port_id/);
    assert.equal((await f.req('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: ids.sub })).status, 200);
    await refused('PUT', `/v2.0/routers/${ids.router}/add_router_interface`, { subnet_id: ids.sub }, 409, 'IpAddressAlreadyAllocated');
    await refused('DELETE', `/v2.0/routers/${ids.router}`, undefined, 409, 'RouterInUse');
    await refused('PUT', `/v2.0/routers/${ids.router}/remove_router_interface`, { subnet_id: ids.extSub }, 404, 'RouterInterfaceNotFoundForSubnet');
  });

  it('floating IPs: an internal network, an exhausted pool, a port with no route out', async () => {
    await refused('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ids.net } }, 400, 'HTTPBadRequest', /not a valid external network/);
    await refused('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ids.ext, port_id: ids.port } }, 404, 'ExternalGatewayForFloatingIPNotFound');
    assert.equal((await f.req('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ids.ext } })).status, 201, 'the /30 has one free address');
    await refused('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ids.ext } }, 409, 'IpAddressGenerationFailure');
  });

  it('unknown paths and ids', async () => {
    await refused('GET', `/v2.0/networks/${randomUUID()}`, undefined, 404, 'NetworkNotFound');
    await refused('DELETE', `/v2.0/security-groups/${randomUUID()}`, undefined, 404, 'SecurityGroupNotFound');
    await refused('GET', '/v2.0/lbaas/loadbalancers', undefined, 404, 'HTTPNotFound');
  });

  it('never answers 500 to any body', async () => {
    const paths = ['networks', 'subnets', 'ports', 'routers', 'floatingips', 'security-groups', 'security-group-rules'];
    const keys = ['network', 'subnet', 'port', 'router', 'floatingip', 'security_group', 'security_group_rule'];
    const fields = ['name', 'network_id', 'cidr', 'fixed_ips', 'gateway_ip', 'allocation_pools', 'external_gateway_info', 'routes', 'port_id',
      'floating_network_id', 'security_groups', 'security_group_id', 'direction', 'protocol', 'port_range_min', 'allowed_address_pairs', 'binding:profile', 'host_routes'];
    const value = fc.oneof(fc.anything(), fc.constantFrom(ids.net, ids.sub, ids.port, ids.ext, '10.0.0.5', '10.0.0.0/24', [{ ip_address: '10.0.0.7' }], [{ subnet_id: ids.sub }]));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: paths.length - 1 }), fc.dictionary(fc.constantFrom(...fields), value), async (i, body) => {
        const r = await f.req('POST', `/v2.0/${paths[i]}`, { [keys[i]!]: body });
        assert.ok(r.status < 500, `${paths[i]} ${JSON.stringify(body)} -> ${r.status} ${JSON.stringify(r.json)}`);
      }),
      { numRuns: 300 },
    );
  });
});
