import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiFixture, BASE, V } from '../helpers/api.ts';

const ROUTER_FIELDS = [
  'id', 'tenantId', 'name', 'adminStateUp', 'inboundFilterId', 'outboundFilterId', 'loadBalancerId',
  'localRedirectChainId', 'forwardChainId', 'asNumber', 'inboundMirrorIds', 'outboundMirrorIds', 'uri',
  'inboundFilter', 'outboundFilter', 'ports', 'peerPorts', 'routes', 'loadBalancer', 'bgpNetworks', 'bgpPeers',
  'localRedirectChain', 'forwardChain',
];

describe('routers and bridges', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('creates a router: 201, absolute Location, no body; GET echoes the vendor type with nulls present', async () => {
    const c = await api.req('POST', '/routers', { body: { name: 'r1', tenantId: 't1' }, type: V('Router-v3') });
    assert.equal(c.status, 201);
    assert.match(String(c.headers.location), new RegExp(`^${BASE}/routers/[0-9a-f-]{36}$`));
    assert.equal(c.body, '');
    const g = await api.req('GET', String(c.headers.location), { accept: V('Router-v3') });
    assert.equal(g.status, 200);
    assert.equal(g.headers['content-type'], V('Router-v3'));
    assert.deepEqual(Object.keys(g.json).sort(), [...ROUTER_FIELDS].sort());
    assert.equal(g.json.inboundFilterId, null);
    assert.equal(g.json.adminStateUp, true);
    assert.equal(g.json.ports, `${g.json.uri}/ports`);
    assert.equal(g.json.uri, c.headers.location);
  });

  it('honours a client id, filters lists by tenant_id and answers lists as bare arrays', async () => {
    const id = randomUUID();
    await api.create('/routers', { id, name: 'mine', tenantId: 'tenant-x' });
    const l = await api.req('GET', '/routers?tenant_id=tenant-x', { accept: V('collection.Router-v3') });
    assert.equal(l.headers['content-type'], V('collection.Router-v3'));
    assert.ok(Array.isArray(l.json));
    assert.deepEqual(l.json.map((r: { id: string }) => r.id), [id]);
    assert.equal((await api.req('POST', '/routers', { body: { id } })).status, 409, 'duplicate id');
  });

  it('replaces every settable field on PUT (omitted -> default) and answers 204', async () => {
    const id = await api.create('/routers', { name: 'before', tenantId: 't', adminStateUp: false, asNumber: 64512 });
    const p = await api.req('PUT', `/routers/${id}`, { body: { name: 'after' }, type: V('Router-v3') });
    assert.equal(p.status, 204);
    const g = (await api.req('GET', `/routers/${id}`)).json;
    assert.equal(g.name, 'after');
    assert.equal(g.tenantId, null);
    assert.equal(g.adminStateUp, true);
    assert.equal(g.asNumber, 0);
  });

  it('checks media types: 406 for wrong Accept or Content-Type, and for none', async () => {
    assert.equal((await api.req('GET', '/routers', { accept: V('Bridge-v4') })).status, 406);
    assert.equal((await api.req('POST', '/routers', { body: {}, type: V('Bridge-v4') })).status, 406);
    assert.equal((await api.req('POST', '/routers', { body: {}, type: 'text/plain' })).status, 406);
    const none = await api.app.inject({ method: 'GET', url: '/midonet-api/routers' });
    assert.equal(none.statusCode, 406);
    assert.equal(none.body, '');
    assert.equal((await api.req('GET', '/bridges', { accept: V('collection.Bridge-v5') })).status, 200);
    assert.equal((await api.req('GET', '/bridges', { accept: V('collection.Bridge-v4') })).status, 200);
  });

  it('answers 405 for verbs a resource lacks, 404 for unknown ids', async () => {
    assert.equal((await api.req('DELETE', '/routers')).status, 405);
    assert.equal((await api.req('PUT', '/chains/' + randomUUID(), { body: {} })).status, 405);
    const nf = await api.req('GET', `/routers/${randomUUID()}`);
    assert.equal(nf.status, 404);
    assert.equal(nf.headers['content-type'], V('Error-v1'));
    assert.equal(nf.json.code, 404);
  });

  it('rejects a filter that names no chain (404) and sets both sides when it does', async () => {
    assert.equal((await api.req('POST', '/bridges', { body: { name: 'b', inboundFilterId: randomUUID() } })).status, 404);
    const chain = await api.create('/chains', { name: 'in' });
    const b = await api.create('/bridges', { name: 'b', inboundFilterId: chain }, V('Bridge-v4'));
    const g = (await api.req('GET', `/bridges/${b}`)).json;
    assert.equal(g.inboundFilter, `${BASE}/chains/${chain}`);
    assert.deepEqual(g.vxLanPortIds, []);
    assert.equal(g.macPortTemplate, `${BASE}/bridges/${b}/mac_table/{macAddress}_{portId}`);
    assert.equal((await api.req('DELETE', `/chains/${chain}`)).status, 204);
    assert.equal((await api.req('GET', `/bridges/${b}`)).json.inboundFilterId, null, 'deleting the chain clears the filter');
  });
});

describe('ports, links and routes', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('creates router ports with a LOCAL route, derived address fields, a MAC and a tunnel key', async () => {
    const r = await api.create('/routers', { name: 'r' });
    const p = await api.create(`/routers/${r}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkAddress: '10.0.0.0', networkLength: 24 }, V('Port-v3'));
    const g = await api.req('GET', `/ports/${p}`, { accept: V('Port-v3') });
    assert.equal(g.json.type, 'Router');
    assert.deepEqual(g.json.portSubnet, ['10.0.0.1/24']);
    assert.equal(g.json.networkAddress, '10.0.0.0');
    assert.match(g.json.portMac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.ok(g.json.tunnelKey > 0);
    assert.equal(g.json.device, `${BASE}/routers/${r}`);
    assert.equal(g.json.active, false);
    const routes = (await api.req('GET', `/routers/${r}/routes`, { accept: V('collection.Route-v1') })).json;
    assert.equal(routes.length, 1);
    assert.deepEqual(
      { type: routes[0].type, dst: `${routes[0].dstNetworkAddr}/${routes[0].dstNetworkLength}`, src: `${routes[0].srcNetworkAddr}/${routes[0].srcNetworkLength}`, port: routes[0].nextHopPort },
      { type: 'Local', dst: '10.0.0.1/32', src: '0.0.0.0/0', port: p },
    );
    const p2 = await api.create(`/routers/${r}/ports`, { type: 'ExteriorRouter', portSubnet: ['10.1.0.1/16', '10.2.0.1/16'] });
    const keys = [(await api.req('GET', `/ports/${p}`)).json.tunnelKey, (await api.req('GET', `/ports/${p2}`)).json.tunnelKey];
    assert.notEqual(keys[0], keys[1]);
    assert.equal((await api.req('GET', `/routers/${r}/routes`)).json.length, 3);
    assert.equal((await api.req('POST', `/routers/${r}/ports`, { body: { type: 'Bridge' } })).status, 400, 'bridge port on a router');
    assert.equal((await api.req('POST', `/routers/${randomUUID()}/ports`, { body: { type: 'Router' } })).status, 404);
  });

  it('links two ports on both sides, refuses a second link with 409, and unlinks', async () => {
    const r = await api.create('/routers', { name: 'r' });
    const b = await api.create('/bridges', { name: 'b' });
    const rp = await api.create(`/routers/${r}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
    const bp = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const bp2 = await api.create(`/bridges/${b}/ports`, { type: 'InteriorBridge', vlanId: 0 });
    const l = await api.req('POST', `/ports/${rp}/link`, { body: { peerId: bp }, type: V('PortLink-v1') });
    assert.equal(l.status, 201);
    assert.equal(l.headers.location, `${BASE}/ports/${rp}/link`);
    assert.equal((await api.req('GET', `/ports/${bp}`)).json.peerId, rp);
    assert.equal((await api.req('POST', `/ports/${bp2}/link`, { body: { peerId: rp } })).status, 409);
    const peers = (await api.req('GET', `/routers/${r}/peer_ports`)).json;
    assert.deepEqual(peers.map((x: { id: string }) => x.id), [bp]);
    // PUT cannot change a link.
    const got = (await api.req('GET', `/ports/${bp}`)).json;
    assert.equal((await api.req('PUT', `/ports/${bp}`, { body: { ...got, peerId: null }, type: V('Port-v3') })).status, 204);
    assert.equal((await api.req('GET', `/ports/${bp}`)).json.peerId, rp);
    assert.equal((await api.req('DELETE', `/ports/${rp}/link`)).status, 204);
    assert.equal((await api.req('GET', `/ports/${bp}`)).json.peerId, null);
  });

  it('validates routes: Normal needs a port of this router; cascades on router delete', async () => {
    const r = await api.create('/routers', { name: 'r' });
    const other = await api.create('/routers', { name: 'o' });
    const p = await api.create(`/routers/${r}/ports`, { type: 'Router', portAddress: '192.168.1.1', networkLength: 24 });
    const op = await api.create(`/routers/${other}/ports`, { type: 'Router', portAddress: '192.168.2.1', networkLength: 24 });
    const base = { srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '0.0.0.0', dstNetworkLength: 0, weight: 100 };
    assert.equal((await api.req('POST', `/routers/${r}/routes`, { body: { ...base, type: 'Normal' } })).status, 400);
    assert.equal((await api.req('POST', `/routers/${r}/routes`, { body: { ...base, type: 'Normal', nextHopPort: op } })).status, 400);
    const bad = await api.req('POST', `/routers/${r}/routes`, { body: { ...base, type: 'Normal', nextHopPort: p, dstNetworkLength: 33 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.violations, [{ property: 'dstNetworkLength', message: 'must be less than or equal to 32' }]);
    const rt = await api.create(`/routers/${r}/routes`, { ...base, type: 'Normal', nextHopPort: p, nextHopGateway: '192.168.1.254' }, V('Route-v1'));
    const g = (await api.req('GET', `/routes/${rt}`, { accept: V('Route-v1') })).json;
    assert.equal(g.nextHopGateway, '192.168.1.254');
    assert.equal(g.learned, false);
    const bh = await api.create(`/routers/${r}/routes`, { ...base, dstNetworkAddr: '10.9.0.0', dstNetworkLength: 16, type: 'BlackHole' });
    assert.equal((await api.req('DELETE', `/routers/${r}`)).status, 204);
    for (const id of [rt, bh]) assert.equal((await api.req('GET', `/routes/${id}`)).status, 404);
    assert.equal((await api.req('GET', `/ports/${p}`)).status, 404);
  });

  it('keeps server-owned fields and bindings across PUT', async () => {
    const b = await api.create('/bridges', { name: 'b' });
    const p = await api.create(`/bridges/${b}/ports`, { type: 'Bridge', vlanId: 7 });
    const before = (await api.req('GET', `/ports/${p}`)).json;
    assert.equal(before.vlanId, 7);
    assert.equal((await api.req('PUT', `/ports/${p}`, { body: { type: 'Bridge', adminStateUp: false, tunnelKey: 1 } })).status, 204);
    const after = (await api.req('GET', `/ports/${p}`)).json;
    assert.equal(after.tunnelKey, before.tunnelKey);
    assert.equal(after.adminStateUp, false);
    assert.equal(after.vlanId, 0, 'full replacement');
    assert.equal((await api.req('GET', `/bridges/${b}/ports`)).json.length, 1);
    assert.equal((await api.req('DELETE', `/ports/${p}`)).status, 204);
    assert.equal((await api.req('GET', `/bridges/${b}/ports`)).json.length, 0);
  });
});
