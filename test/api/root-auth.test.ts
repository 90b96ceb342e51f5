import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StaticAuthService } from '../../src/cluster/api/auth.ts';
import { ApiFixture, BASE, V } from '../helpers/api.ts';

const ROOT_KEYS = [
  'uri', 'version', 'bgpNetworkTemplate', 'bgpPeerTemplate', 'bridges', 'bridgeTemplate', 'chains', 'chainTemplate',
  'healthMonitors', 'healthMonitorTemplate', 'hosts', 'hostTemplate', 'ipAddrGroups', 'ipAddrGroupTemplate',
  'l2insertions', 'l2InsertionTemplate', 'loadBalancers', 'loadBalancerTemplate', 'mirrors', 'mirrorTemplate',
  'neutron', 'poolMembers', 'poolMemberTemplate', 'pools', 'poolTemplate', 'portGroups', 'portGroupTemplate',
  'ports', 'portTemplate', 'qosBwLimitRuleTemplate', 'qosDscpRuleTemplate', 'qosPolicies', 'qosPolicyTemplate',
  'routers', 'routerTemplate', 'routeTemplate', 'ruleTemplate', 'serviceContainerGroups',
  'serviceContainerGroupTemplate', 'serviceContainers', 'serviceContainerTemplate', 'systemState', 'tenants',
  'tenantTemplate', 'traceRequests', 'traceRequestTemplate', 'tunnelZones', 'tunnelZoneTemplate', 'vips', 'vipTemplate',
  'vteps', 'vtepTemplate',
];

describe('root document, system state, tenants, CORS', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('serves exactly MidoNet\'s root keys with absolute URIs, with and without the slash', async () => {
    for (const path of ['', '/']) {
      const r = await api.req('GET', path, { accept: V('Application-v5') });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], V('Application-v5'));
      assert.deepEqual(Object.keys(r.json).sort(), [...ROOT_KEYS].sort());
      assert.equal(r.json.uri, `${BASE}/`);
      assert.equal(r.json.version, 'v5.0');
      assert.equal(r.json.routers, `${BASE}/routers`);
      assert.equal(r.json.routerTemplate, `${BASE}/routers/{id}`);
    }
    assert.equal((await api.req('GET', '', { accept: 'application/json' })).status, 200);
    assert.equal((await api.req('GET', '', { accept: V('Router-v3') })).status, 406);
  });

  it('answers system_state and read-only tenants', async () => {
    const s = await api.req('GET', '/system_state', { accept: V('SystemState-v2') });
    assert.equal(s.status, 200);
    assert.deepEqual({ ...s.json, uri: undefined }, { state: 'ACTIVE', availability: 'READWRITE', version: '5.0.0', information: null, uri: undefined });
    const t = await api.req('GET', '/tenants', { accept: V('collection.Tenant-v2') });
    assert.equal(t.status, 200);
    assert.equal(t.json[0].id, 'admin');
    assert.equal(t.json[0].routers, `${BASE}/routers?tenant_id=admin`);
    assert.equal((await api.req('GET', '/tenants', { accept: 'application/json' })).status, 406, 'tenants are vendor-only');
    const post = await api.req('POST', '/tenants', { body: { id: 'x' }, type: V('Tenant-v2') });
    assert.equal(post.status, 405);
    assert.equal(post.headers['content-type'], V('Error-v1'));
  });

  it('adds CORS headers and answers OPTIONS without auth', async () => {
    const r = await api.req('OPTIONS', '/routers');
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-headers']), /X-Auth-Token/);
    assert.equal(r.headers['access-control-expose-headers'], 'Location');
  });

  it('answers unknown roots with 404 and unsupported features with 501, in the error shape', async () => {
    const r = await api.req('GET', '/nonsense');
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { message: 'Root resource nonsense not found', code: 404 });
    const lb = await api.req('GET', '/load_balancers');
    assert.equal(lb.status, 501);
    assert.equal(lb.json.code, 501);
  });
});

describe('login with the mock provider (MidoNet default)', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('returns the token in Set-Cookie and body, and lets everyone in as admin', async () => {
    const r = await api.req('POST', '/login', { headers: { authorization: `Basic ${Buffer.from('any:thing').toString('base64')}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], V('Token-v1'));
    assert.equal(r.headers['set-cookie'], 'sessionId=00000000');
    assert.deepEqual(r.json, { key: '00000000', expires: null });
    assert.equal((await api.req('GET', '/routers')).status, 200, 'no token needed');
  });
});

describe('login with a static credentials file', () => {
  let api: ApiFixture;
  let now = Date.now();
  before(async () => {
    api = await ApiFixture.start((store) => new StaticAuthService({ users: [{ name: 'admin', password: 's3cret' }], tokenLifetime: 60 }, store, () => now));
  });
  after(() => api.close());
  const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

  it('refuses bad credentials and missing tokens with 401 and WWW-Authenticate', async () => {
    const bad = await api.req('POST', '/login', { headers: basic('admin', 'wrong') });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers['www-authenticate'], 'Basic  realm="BASIC_AUTH_REALM"');
    assert.equal(bad.json.code, 401);
    const none = await api.req('GET', '/routers');
    assert.equal(none.status, 401);
    assert.ok(none.headers['www-authenticate']);
    assert.equal((await api.req('GET', '/routers', { headers: { 'x-auth-token': 'forged' } })).status, 401);
  });

  it('issues a token that works in X-Auth-Token or the cookie until it expires', async () => {
    const r = await api.req('POST', '/login', { headers: basic('admin', 's3cret') });
    assert.equal(r.status, 200);
    const cookie = String(r.headers['set-cookie']);
    const token = /^sessionId=([0-9a-f]+); Expires=\w{3}, \d\d-\d\d-\d{4} \d\d:\d\d:\d\d UTC$/.exec(cookie)?.[1];
    assert.ok(token, cookie);
    assert.equal(r.json.key, token);
    assert.equal((await api.req('GET', '/routers', { headers: { 'x-auth-token': token } })).status, 200);
    assert.equal((await api.req('GET', '/routers', { headers: { cookie: `sessionId=${token}` } })).status, 200);
    now += 61_000;
    assert.equal((await api.req('GET', '/routers', { headers: { 'x-auth-token': token } })).status, 401, 'expired');
  });
});
