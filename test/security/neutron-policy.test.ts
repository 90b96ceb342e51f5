/** Finding 3: Neutron's default policy for a project member's token, table by table. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StaticAuthService } from '../../src/cluster/api/auth.ts';
import { buildNeutronApi } from '../../src/cluster/neutron/v2-server.ts';
import { ApiFixture } from '../helpers/api.ts';
import { ADMIN, ALICE, BOB } from '../helpers/secure-cluster.ts';

type Json = Record<string, any>;

describe('Neutron API policy for project members', () => {
  let api: ApiFixture;
  let app: ReturnType<typeof buildNeutronApi>;
  const tokens: Record<string, string> = {};
  const req = async (who: string, method: string, url: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const r = await app.inject({ method: method as 'GET', url, headers: { 'x-auth-token': tokens[who]!, ...(body ? { 'content-type': 'application/json' } : {}) }, payload: body ? JSON.stringify(body) : undefined });
    return { status: r.statusCode, json: r.body ? (JSON.parse(r.body) as Json) : {} };
  };
  const make = async (who: string, path: string, key: string, body: Json) => {
    const r = await req(who, 'POST', `/v2.0/${path}`, { [key]: body });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json[key] as Json;
  };
  const ids: Record<string, string> = {};
  before(async () => {
    let auth: StaticAuthService | null = null;
    api = await ApiFixture.start((store) => (auth = new StaticAuthService({ users: [ADMIN, ALICE, BOB] as never }, store)));
    app = buildNeutronApi(api.store, auth!);
    await app.ready();
    for (const u of [ADMIN, ALICE, BOB]) tokens[u.name] = (await auth!.authenticate(u.name, u.password, undefined, '127.0.0.1'))!.key;
    ids.aliceNet = (await make('alice', 'networks', 'network', { name: 'alice-net' })).id;
    ids.aliceSub = (await make('alice', 'subnets', 'subnet', { network_id: ids.aliceNet, cidr: '10.1.0.0/24' })).id;
    ids.alicePort = (await make('alice', 'ports', 'port', { network_id: ids.aliceNet })).id;
    ids.aliceGroup = (await make('alice', 'security-groups', 'security_group', { name: 'web' })).id;
    ids.aliceRouter = (await make('alice', 'routers', 'router', { name: 'r' })).id;
    ids.shared = (await make('admin', 'networks', 'network', { name: 'shared', shared: true })).id;
    ids.public = (await make('admin', 'networks', 'network', { name: 'public', 'router:external': true })).id;
    await make('admin', 'subnets', 'subnet', { network_id: ids.public, cidr: '198.51.100.0/24' });
  });
  after(async () => {
    await app.close();
    await api.close();
  });

  it('shows a member its own objects and the shared and external networks only', async () => {
    const nets = (await req('bob', 'GET', '/v2.0/networks')).json.networks.map((n: Json) => n.name).sort();
    assert.deepEqual(nets, ['public', 'shared']);
    assert.deepEqual((await req('bob', 'GET', '/v2.0/ports')).json.ports, []);
    // Only his own default group, made on first sight as Neutron makes it.
    const bobs = (await req('bob', 'GET', '/v2.0/security-groups')).json.security_groups as { name: string; project_id: string }[];
    assert.deepEqual(bobs.map((g) => [g.name, g.project_id]), [['default', 'tenant-b']]);
    assert.ok((await req('alice', 'GET', '/v2.0/networks')).json.networks.some((n: Json) => n.id === ids.aliceNet));
    assert.equal((await req('admin', 'GET', '/v2.0/networks')).json.networks.length, 3);
  });

  it("answers 404 for another project's objects: show, update, delete, tags", async () => {
    for (const [path, id] of [['networks', ids.aliceNet], ['subnets', ids.aliceSub], ['ports', ids.alicePort], ['security-groups', ids.aliceGroup], ['routers', ids.aliceRouter]] as const) {
      const key = path === 'security-groups' ? 'security_group' : path.slice(0, -1);
      assert.equal((await req('bob', 'GET', `/v2.0/${path}/${id}`)).status, 404, `show ${path}`);
      assert.equal((await req('bob', 'PUT', `/v2.0/${path}/${id}`, { [key]: { name: 'mine now' } })).status, 404, `update ${path}`);
      assert.equal((await req('bob', 'DELETE', `/v2.0/${path}/${id}`)).status, 404, `delete ${path}`);
      assert.equal((await req('bob', 'PUT', `/v2.0/${path}/${id}/tags/x`)).status, 404, `tag ${path}`);
    }
    assert.equal((await req('admin', 'GET', `/v2.0/networks/${ids.aliceNet}`)).json.network.name, 'alice-net', 'nothing renamed');
  });

  it("refuses ports, subnets and rules on another project's objects, and changes to shared ones it does not own", async () => {
    assert.equal((await req('bob', 'POST', '/v2.0/ports', { port: { network_id: ids.aliceNet } })).status, 404);
    assert.equal((await req('bob', 'POST', '/v2.0/subnets', { subnet: { network_id: ids.aliceNet, cidr: '10.9.0.0/24' } })).status, 404);
    assert.equal((await req('bob', 'POST', '/v2.0/security-group-rules', { security_group_rule: { security_group_id: ids.aliceGroup, direction: 'ingress' } })).status, 404);
    assert.equal((await req('bob', 'POST', '/v2.0/ports', { port: { network_id: ids.alicePort && ids.aliceNet, security_groups: [ids.aliceGroup] } })).status, 404);
    assert.equal((await req('bob', 'PUT', `/v2.0/routers/${ids.aliceRouter}/add_router_interface`, { subnet_id: ids.aliceSub })).status, 404);
    // The shared network: bob may put a port on it, not rename it or add subnets.
    assert.equal((await req('bob', 'POST', '/v2.0/ports', { port: { network_id: ids.shared } })).status, 201);
    assert.equal((await req('bob', 'PUT', `/v2.0/networks/${ids.shared}`, { network: { name: 'x' } })).status, 403);
    assert.equal((await req('bob', 'POST', '/v2.0/subnets', { subnet: { network_id: ids.shared, cidr: '10.8.0.0/24' } })).status, 403);
  });

  it("refuses another project's id (400) and the admin's attributes (403), which the admin may set", async () => {
    assert.equal((await req('bob', 'POST', '/v2.0/networks', { network: { name: 'n', tenant_id: 'tenant-a' } })).status, 400);
    assert.equal((await req('bob', 'POST', '/v2.0/networks', { network: { name: 'n', project_id: 'tenant-a' } })).status, 400);
    const forbidden: [string, string, Json][] = [
      ['networks', 'network', { 'router:external': true }],
      ['networks', 'network', { shared: true }],
      ['networks', 'network', { 'provider:network_type': 'uplink' }],
      ['networks', 'network', { 'provider:physical_network': 'physnet' }],
      ['networks', 'network', { 'provider:segmentation_id': 7 }],
      ['routers', 'router', { distributed: true }],
      ['ports', 'port', { network_id: ids.shared, 'binding:host_id': 'compute-1' }],
      ['ports', 'port', { network_id: ids.shared, 'binding:profile': { interface_name: 'tap0' } }],
    ];
    for (const [path, key, body] of forbidden) {
      const r = await req('bob', 'POST', `/v2.0/${path}`, { [key]: { name: 'n', ...body } });
      assert.equal(r.status, 403, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.NeutronError.type, 'PolicyNotAuthorized');
    }
    const mine = (await make('bob', 'networks', 'network', { name: 'bob-net' })).id;
    assert.equal((await req('bob', 'PUT', `/v2.0/networks/${mine}`, { network: { shared: true } })).status, 403);
    assert.equal((await req('bob', 'PUT', `/v2.0/networks/${mine}`, { network: { name: 'renamed' } })).status, 200);
    assert.equal((await req('admin', 'POST', '/v2.0/networks', { network: { name: 'ext2', 'router:external': true, tenant_id: 'tenant-b' } })).status, 201);
    assert.equal((await req('admin', 'PUT', `/v2.0/networks/${mine}`, { network: { shared: true } })).status, 200);
  });

  it('refuses multicast and broadcast MACs on ports', async () => {
    for (const mac of ['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '33:33:00:00:00:01']) {
      assert.equal((await req('alice', 'POST', '/v2.0/ports', { port: { network_id: ids.aliceNet, mac_address: mac } })).status, 400, mac);
    }
  });
  it('keeps quotas: the admin sets and resets them, a member reads its own, creates past the limit are refused', async () => {
    assert.equal((await req('bob', 'PUT', '/v2.0/quotas/tenant-b', { quota: { network: 50 } })).status, 403);
    assert.equal((await req('bob', 'GET', '/v2.0/quotas/tenant-a')).status, 403);
    assert.equal((await req('bob', 'GET', '/v2.0/quotas/tenant-b')).json.quota.network, 100, "Neutron's default");
    assert.equal((await req('admin', 'PUT', '/v2.0/quotas/tenant-b', { quota: { bogus: 1 } })).status, 400);
    assert.equal((await req('admin', 'PUT', '/v2.0/quotas/tenant-b', { quota: { network: -2 } })).status, 400);
    const had = (await req('bob', 'GET', '/v2.0/quotas/tenant-b/details')).json.quota.network.used as number;
    const set = await req('admin', 'PUT', '/v2.0/quotas/tenant-b', { quota: { network: had + 1, port: 0 } });
    assert.deepEqual([set.json.quota.network, set.json.quota.port, set.json.quota.router], [had + 1, 0, 10]);
    assert.deepEqual((await req('admin', 'GET', '/v2.0/quotas')).json.quotas.map((q: Json) => q.project_id), ['tenant-b']);
    await make('bob', 'networks', 'network', { name: 'one' });
    const over = await req('bob', 'POST', '/v2.0/networks', { network: { name: 'two' } });
    assert.equal(over.status, 409);
    assert.match(over.json.NeutronError.message, /^Quota exceeded for resources: \['network'\]\.$/);
    const bulk = await req('admin', 'POST', '/v2.0/networks', { networks: [{ name: 'b1', project_id: 'tenant-b' }] });
    assert.equal(bulk.status, 409, "the admin creating in bob's project counts against it too");
    const details = (await req('bob', 'GET', '/v2.0/quotas/tenant-b/details.json')).json.quota;
    assert.deepEqual(details.network, { limit: had + 1, used: had + 1, reserved: 0 });
    assert.equal((await req('admin', 'DELETE', '/v2.0/quotas/tenant-b')).status, 204);
    assert.deepEqual((await req('admin', 'GET', '/v2.0/quotas')).json.quotas, []);
    assert.deepEqual((await req('admin', 'GET', '/v2.0/quotas/tenant-b')).json.quota, (await req('admin', 'GET', '/v2.0/quotas/tenant-b/default')).json.quota);
    await make('bob', 'networks', 'network', { name: 'two' });
  });
});
