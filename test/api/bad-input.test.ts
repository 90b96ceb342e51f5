import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BODY_LIMIT } from '../../src/cluster/api/server.ts';
import { T } from '../../src/model/types.ts';
import { ApiFixture, V } from '../helpers/api.ts';

/** Every stored object with its version: what a refused request must leave untouched. */
async function snapshot(api: ApiFixture): Promise<string> {
  const parts = await Promise.all(Object.values(T).map(async (t) => (await api.store.backend.readAll(t)).map((v) => `${t}/${v.value.id}@${v.version}`)));
  return parts.flat().sort().join('\n');
}

describe('bad input gets a 4xx in MidoNet\'s shape and changes nothing', () => {
  let api: ApiFixture;
  const ids: Record<string, string> = {};
  before(async () => {
    api = await ApiFixture.start();
    ids.router = await api.create('/routers', { name: 'r' });
    ids.bridge = await api.create('/bridges', { name: 'b' });
    ids.chain = await api.create('/chains', { name: 'c' });
    ids.rport = await api.create(`/routers/${ids.router}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
    ids.bport = await api.create(`/bridges/${ids.bridge}/ports`, { type: 'Bridge' });
    ids.rule = await api.create(`/chains/${ids.chain}/rules`, { type: 'accept' });
    ids.host = await api.create('/hosts', { name: 'h' });
    ids.tz = await api.create('/tunnel_zones', { name: 'tz', type: 'vxlan' });
    ids.pg = await api.create('/port_groups', { name: 'pg' });
  });
  after(() => api.close());

  it('malformed JSON, wrong types, missing bodies', async () => {
    const before = await snapshot(api);
    for (const body of ['{', '{"name": }', 'null', '[]', '"str"', '']) {
      const r = await api.req('POST', '/routers', { body, type: V('Router-v3') });
      assert.equal(r.status, 400, `body ${JSON.stringify(body)}`);
      assert.equal(r.headers['content-type'], V('Error-v1'));
      assert.deepEqual(Object.keys(r.json).sort(), ['code', 'message']);
    }
    for (const body of [{ adminStateUp: 'maybe' }, { name: { x: 1 } }, { inboundFilterId: 'not-a-uuid' }, { asNumber: 'many' }]) {
      const r = await api.req('POST', '/routers', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const v = await api.req('POST', '/routers', { body: { name: 'x'.repeat(256) } });
    assert.deepEqual(v.json, { message: 'Validation error(s) found', code: 400, violations: [{ property: 'name', message: 'size must be between 0 and 255' }] });
    assert.equal(await snapshot(api), before);
  });

  it('unknown ids in references and dangling links: 404, nothing half-done', async () => {
    const before = await snapshot(api);
    assert.equal((await api.req('POST', `/routers/${ids.router}/ports`, { body: { type: 'Router', peerId: randomUUID() } })).status, 404);
    assert.equal((await api.req('POST', `/ports/${ids.rport}/link`, { body: { peerId: randomUUID() } })).status, 404);
    assert.equal((await api.req('POST', `/hosts/${ids.host}/ports`, { body: { portId: randomUUID(), interfaceName: 'x' }, type: V('HostInterfacePort-v1') })).status, 404);
    assert.equal((await api.req('POST', `/chains/${ids.chain}/rules`, { body: { type: 'accept', portGroup: randomUUID() } })).status, 404);
    assert.equal(await snapshot(api), before);
  });

  it('caps body size with 413', async () => {
    const r = await api.req('POST', '/routers', { body: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT + 10) }) });
    assert.equal(r.status, 413);
    assert.equal(r.json.code, 413);
  });

  it('never answers 5xx (bar 501 for unbuilt resources) nor changes anything when refusing (property-based)', async () => {
    const pool = () => fc.constantFrom(...Object.values(ids), randomUUID(), 'x', '', '..', '%00', '10.0.0.0_24', 'aa-bb-cc-dd-ee-ff_' + ids.bport);
    const templates = [
      '/routers', '/routers/{}', '/routers/{}/ports', '/routers/{}/routes', '/routers/{}/peer_ports', '/routers/{}/bgp_peers', '/routers/{}/bgp_networks',
      '/bridges', '/bridges/{}', '/bridges/{}/ports', '/bridges/{}/dhcp', '/bridges/{}/dhcp/{}', '/bridges/{}/dhcp/{}/hosts', '/bridges/{}/mac_table', '/bridges/{}/mac_table/{}', '/bridges/{}/arp_table', '/bridges/{}/vlans/{}/mac_table',
      '/ports', '/ports/{}', '/ports/{}/link', '/ports/{}/port_groups', '/chains', '/chains/{}', '/chains/{}/rules', '/rules/{}', '/routes/{}',
      '/hosts', '/hosts/{}', '/hosts/{}/ports', '/hosts/{}/ports/{}', '/hosts/{}/interfaces', '/tunnel_zones', '/tunnel_zones/{}', '/tunnel_zones/{}/hosts', '/tunnel_zones/{}/hosts/{}',
      '/port_groups', '/port_groups/{}/ports', '/ip_addr_groups', '/ip_addr_groups/{}/ip_addrs', '/bgp_peers/{}', '/bgp_networks/{}', '/tenants', '/tenants/{}', '/system_state', '/login',
    ];
    const fieldNames = ['id', 'name', 'type', 'tenantId', 'portAddress', 'networkLength', 'portSubnet', 'peerId', 'portId', 'hostId', 'interfaceName', 'inboundFilterId', 'position', 'natTargets', 'tpDst', 'flowAction', 'jumpChainId', 'subnetPrefix', 'subnetLength', 'macAddr', 'ipAddr', 'ipAddress', 'addr', 'asNumber', 'address', 'dstNetworkAddr', 'nextHopPort', 'vlanId', 'fragmentPolicy'];
    const value = fc.oneof(pool(), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('Router', 'Bridge', 'accept', 'snat', 'vxlan', 'Normal', '10.0.0.1', 24, -1, 1e300));
    const body = fc.oneof(
      fc.dictionary(fc.constantFrom(...fieldNames), value, { maxKeys: 6 }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.string({ maxLength: 40 }),
    );
    const req = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
      template: fc.constantFrom(...templates),
      args: fc.array(pool(), { minLength: 2, maxLength: 2 }),
      body,
      type: fc.constantFrom('application/json', V('Router-v3'), V('Port-v3'), V('Rule-v2'), V('TunnelZoneHost-v1'), 'text/plain', '*/*'),
    });
    await fc.assert(
      fc.asyncProperty(req, async (q) => {
        let i = 0;
        const path = q.template.replace(/\{\}/g, () => encodeURIComponent(q.args[i++] ?? 'x'));
        const before = await snapshot(api);
        const r = await api.req(q.method, path, { body: typeof q.body === 'string' ? q.body : JSON.stringify(q.body), type: q.type });
        assert.ok(r.status < 500 || r.status === 501, `${q.method} ${path} ${JSON.stringify(q.body)} -> ${r.status} ${r.body}`);
        if (r.status >= 400) {
          assert.equal(await snapshot(api), before, `${q.method} ${path} -> ${r.status} changed the NSDB`);
          if (r.status !== 406) assert.equal(typeof r.json?.message, 'string', `error body for ${r.status}`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
