/**
 * Findings 1 and 2: the topology stream is closed to strangers, a host writes only its own state,
 * and junk values are refused wherever they would go.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { T } from '../../src/model/types.ts';
import { ApiFixture, V } from '../helpers/api.ts';
import { ADMIN, ALICE, SecureCluster } from '../helpers/secure-cluster.ts';
import { StreamClient } from '../helpers/stream-client.ts';

/** What an upgrade without (or with a wrong) credential gets: the HTTP status, before any data. */
function refusal(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('message', () => reject(new Error('data reached a refused client')));
    ws.on('open', () => reject(new Error('the stream opened')));
    ws.on('error', () => undefined);
  });
}

describe('topology stream with authentication', { timeout: 60_000 }, () => {
  let c: SecureCluster;
  let stream: string;
  let admin: string;
  const ids: Record<string, string> = {};
  before(async () => {
    c = await SecureCluster.start();
    stream = `ws://127.0.0.1:${c.cluster.port}/topology`;
    admin = await c.token(ADMIN.name, ADMIN.password);
    const tz = await c.create(admin, '/tunnel_zones', { name: 'tz', type: 'vxlan' });
    for (const [i, h] of c.hosts.entries()) {
      assert.equal((await c.call(admin, 'POST', '/hosts', { id: h, name: `h${i}` })).status, 201);
      assert.equal((await c.call(admin, 'POST', `/tunnel_zones/${tz}/hosts`, { hostId: h, ipAddress: `10.99.0.${i + 1}` }, V('TunnelZoneHost-v1'))).status, 201);
    }
    const bridge = await c.create(admin, '/bridges', { name: 'b' });
    ids.router = await c.create(admin, '/routers', { name: 'r' });
    ids.p1 = await c.create(admin, `/bridges/${bridge}/ports`, { type: 'Bridge' });
    ids.p2 = await c.create(admin, `/bridges/${bridge}/ports`, { type: 'Bridge' });
    ids.rp1 = await c.create(admin, `/routers/${ids.router}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
    assert.equal((await c.call(admin, 'POST', `/hosts/${c.hosts[0]}/ports`, { portId: ids.p1, interfaceName: 'tap1' })).status, 201);
    assert.equal((await c.call(admin, 'POST', `/hosts/${c.hosts[1]}/ports`, { portId: ids.p2, interfaceName: 'tap2' })).status, 201);
  });
  after(() => c?.stop());

  it('refuses a stream without credentials, with a bad token, or for a project member, before any data', async () => {
    assert.equal(await refusal(stream), 401);
    assert.equal(await refusal(stream, { 'x-auth-token': 'forged' }), 401);
    assert.equal(await refusal(stream, { 'x-auth-token': await c.token(ALICE.name, ALICE.password) }), 403);
  });

  it('lets a host write the state of itself and of the ports it binds, nothing else', async () => {
    const h1 = await StreamClient.open(stream, { 'x-auth-token': await c.token('host-1', 'host-1-pw') });
    const h2 = await StreamClient.open(stream, { 'x-auth-token': await c.token('host-2', 'host-2-pw') });
    const set = (s: StreamClient, type: string, id: string, key: string, value: string) => s.send({ op: 'setState', type, id, key, value });
    assert.equal((await set(h1, T.Host, c.hosts[0], 'alive', 'true')).op, 'ack');
    assert.equal((await set(h1, T.Port, ids.p1!, 'active', c.hosts[0])).op, 'ack');
    assert.equal((await set(h2, T.Host, c.hosts[1], 'alive', 'true')).op, 'ack');
    // Another host's port, another host's key, a port it claims for another host.
    assert.equal((await set(h1, T.Port, ids.p2!, 'active', c.hosts[0])).op, 'error');
    assert.equal((await set(h1, T.Host, c.hosts[1], 'alive', 'true')).op, 'error');
    assert.equal((await set(h1, T.Port, ids.p1!, 'active', c.hosts[1])).op, 'error');
    // Learned routes only through a router port bound to it: rp1 is bound to nobody.
    const route = JSON.stringify({ id: ids.p2, nextHopPortId: ids.rp1, dstNetworkAddr: '0.0.0.0', dstNetworkLength: 0, nextHopGateway: '10.0.0.66', weight: 1 });
    assert.equal((await set(h1, T.Router, ids.router!, `learned_routes/${ids.rp1}_0.0.0.0_0`, route)).op, 'error');
    // Keys another session holds, whole types.
    assert.equal((await h1.send({ op: 'deleteState', type: T.Host, id: c.hosts[1], key: 'alive' })).op, 'error');
    assert.equal((await h1.send({ op: 'watchType', type: T.Port })).op, 'error');
    assert.equal((await c.call(admin, 'GET', `/hosts/${c.hosts[1]}`)).json.alive, true, 'host 2 still alive');
    assert.equal((await c.call(admin, 'GET', `/ports/${ids.p2}`)).json.active, false, 'port 2 not made active by host 1');
    h1.close();
    h2.close();
  });

  it('refuses junk state values from anyone, the admin included; the routes and trace still answer', async () => {
    const a = await StreamClient.open(stream, { 'x-auth-token': admin });
    const r = await a.send({ op: 'setState', type: T.Router, id: ids.router, key: 'learned_routes/junk', value: '{not json' });
    assert.equal(r.op, 'error');
    assert.equal((await a.send({ op: 'setState', type: T.Router, id: ids.router, key: 'arp_table/1', value: 'x' })).op, 'error');
    assert.equal((await a.send({ op: 'setState', type: T.Port, id: ids.p1, key: 'active', value: 'yes' })).op, 'error');
    a.close();
    assert.equal((await c.call(admin, 'GET', `/routers/${ids.router}/routes`)).status, 200);
    const trace = await fetch(`${c.url}/trace`, { method: 'POST', headers: { 'content-type': V('PacketTrace-v1'), 'x-auth-token': admin }, body: JSON.stringify({ inPort: ids.p1, srcIp: '10.0.0.5', dstIp: '10.0.0.6' }) });
    assert.equal(trace.status, 200);
  });
});

describe('junk already in the NSDB', () => {
  let api: ApiFixture;
  before(async () => {
    api = await ApiFixture.start();
  });
  after(() => api.close());

  it('is left out of the routes and the trace instead of failing them', async () => {
    const router = await api.create('/routers', { name: 'r' });
    const port = await api.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
    await api.store.setState({ type: T.Router, id: router, key: 'learned_routes/junk' }, 'not json at all');
    await api.store.setState({ type: T.Router, id: router, key: 'learned_routes/half' }, '{"id": 7}');
    const routes = await api.req('GET', `/routers/${router}/routes`);
    assert.equal(routes.status, 200);
    assert.ok(routes.json.every((x: { learned: boolean }) => !x.learned));
    const trace = await api.req('POST', '/trace', { body: { inPort: port, srcIp: '10.0.0.5', dstIp: '8.8.8.8' } });
    assert.equal(trace.status, 200);
  });
});
