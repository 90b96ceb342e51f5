import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockAuthService } from '../../src/cluster/api/auth.ts';
import { attachTopologyService, TOPOLOGY_PATH } from '../../src/cluster/topology-service.ts';
import { ApiFixture } from '../helpers/api.ts';
import { StreamClient as Client } from '../helpers/stream-client.ts';

describe('topology service', () => {
  let api: ApiFixture;
  let url: string;
  let service: { close(): Promise<void> };
  before(async () => {
    api = await ApiFixture.start();
    service = attachTopologyService(api.app.server, api.store, new MockAuthService());
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = api.app.server.address();
    url = `ws://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}${TOPOLOGY_PATH}`;
  });
  after(async () => {
    await service.close();
    await api.close();
  });

  it('sends current values then every change in order, per object and per type', async () => {
    const r = await api.create('/routers', { name: 'v0' });
    const c = await Client.open(url);
    assert.equal((await c.send({ op: 'watch', type: 'Router', id: r })).op, 'ack');
    assert.equal((await c.send({ op: 'watchType', type: 'Port' })).op, 'ack');
    await c.until((s) => s.find((m) => m.op === 'update' && m.id === r));
    for (let i = 1; i <= 5; i++) await api.req('PUT', `/routers/${r}`, { body: { name: `v${i}` } });
    const p = await api.create(`/routers/${r}/ports`, { type: 'Router' });
    await api.req('DELETE', `/routers/${r}`);
    await c.until((s) => s.find((m) => m.op === 'delete' && m.id === r));
    await c.until((s) => s.find((m) => m.op === 'delete' && m.id === p));
    const names = c.seen.flatMap((m) => (m.op === 'update' && m.type === 'Router' ? [(m.value as { name: string }).name] : []));
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) === i), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    assert.ok(names.every((n, i) => i === 0 || Number(n.slice(1)) >= Number(names[i - 1]!.slice(1))), `in order: ${names}`);
    assert.ok(c.seen.some((m) => m.op === 'update' && m.type === 'Port' && m.id === p));
    c.close();
  });

  it('ties state keys to the connection: they vanish when it closes', async () => {
    const h = await api.create('/hosts', { name: 'agent-host' });
    const agent = await Client.open(url);
    const watcher = await Client.open(url);
    await watcher.send({ op: 'watchState', type: 'Host', id: h, key: 'alive' });
    assert.equal((await agent.send({ op: 'setState', type: 'Host', id: h, key: 'alive', value: 'true' })).op, 'ack');
    assert.equal((await api.req('GET', `/hosts/${h}`)).json.alive, true);
    await watcher.until((s) => s.find((m) => m.op === 'state' && m.value === 'true'));
    agent.close();
    await watcher.until((s) => {
      const set = s.findIndex((m) => m.op === 'state' && m.value === 'true');
      return set >= 0 && s.slice(set).some((m) => m.op === 'state' && m.value === null) ? true : undefined;
    });
    assert.equal((await api.req('GET', `/hosts/${h}`)).json.alive, false);
    watcher.close();
  });

  it('answers malformed requests with an error and keeps the connection', async () => {
    const c = await Client.open(url);
    c.ws.send('not json');
    await c.until((s) => s.find((m) => m.op === 'error'));
    assert.equal((await c.send({ op: 'explode' })).op, 'error');
    assert.equal((await c.send({ op: 'watch', type: 'Router' })).op, 'error');
    assert.equal((await c.send({ op: 'watchType', type: 'Router' })).op, 'ack');
    c.close();
  });
});
