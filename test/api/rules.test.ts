import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiFixture, BASE, V } from '../helpers/api.ts';

describe('chains and rules', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());
  const rules = async (chain: string) => (await api.req('GET', `/chains/${chain}/rules`, { accept: V('collection.Rule-v2') })).json;

  it('inserts at position (default 1) and renumbers; 400 past the end', async () => {
    const c = await api.create('/chains', { name: 'c', tenantId: 't' }, V('Chain-v1'));
    const a = await api.create(`/chains/${c}/rules`, { type: 'accept' }, V('Rule-v2'));
    const b = await api.create(`/chains/${c}/rules`, { type: 'drop' });
    const d = await api.create(`/chains/${c}/rules`, { type: 'return', position: 3 });
    const e = await api.create(`/chains/${c}/rules`, { type: 'reject', position: 2 });
    const l = await rules(c);
    assert.deepEqual(l.map((r: { id: string }) => r.id), [b, e, a, d]);
    assert.deepEqual(l.map((r: { position: number }) => r.position), [1, 2, 3, 4]);
    assert.equal((await api.req('POST', `/chains/${c}/rules`, { body: { type: 'accept', position: 6 } })).status, 400);
    assert.equal((await api.req('POST', `/chains/${c}/rules`, { body: { type: 'accept', position: 0 } })).status, 400);
    assert.equal((await api.req('DELETE', `/rules/${e}`)).status, 204);
    assert.deepEqual((await rules(c)).map((r: { id: string; position: number }) => [r.id, r.position]), [[b, 1], [a, 2], [d, 3]]);
  });

  it('renders every condition field, nulls included, and the type-specific ones', async () => {
    const c = await api.create('/chains', { name: 'c' });
    const r = await api.create(`/chains/${c}/rules`, {
      type: 'snat', flowAction: 'accept', natTargets: [{ addressFrom: '1.1.1.1', addressTo: '1.1.1.2', portFrom: 1024, portTo: 65535 }],
      nwSrcAddress: '10.0.0.0', nwSrcLength: 24, invNwSrc: true, nwProto: 6, tpDst: { start: 80, end: 80 }, dlSrc: 'AA:bb:cc:dd:ee:ff', dlSrcMask: 'ffff.ffff.0000',
    });
    const g = (await api.req('GET', `/rules/${r}`)).json;
    assert.equal(g.type, 'snat');
    assert.equal(g.chainId, c);
    assert.equal(g.chain, `${BASE}/chains/${c}`);
    assert.equal(g.invNwSrc, true);
    assert.equal(g.dlSrc, 'aa:bb:cc:dd:ee:ff');
    assert.deepEqual(g.tpDst, { start: 80, end: 80 });
    assert.equal(g.tpSrc, null);
    assert.equal(g.ipAddrGroupSrc, null);
    assert.equal(g.fragmentPolicy, 'header', 'L4 match defaults to header');
    assert.equal(g.natTargets[0].portFrom, 1024);
    assert.ok(!('jumpChainId' in g));
    const fip = await api.create(`/chains/${c}/rules`, { type: 'dnat', flowAction: 'accept', natTargets: [{ addressFrom: '10.0.0.5', addressTo: '10.0.0.5' }] });
    assert.equal((await api.req('GET', `/rules/${fip}`)).json.fragmentPolicy, 'any', 'floating IP NAT');
    const dyn = await api.create(`/chains/${c}/rules`, { type: 'snat', flowAction: 'accept', natTargets: [{ addressFrom: '1.1.1.1', addressTo: '1.1.1.1', portFrom: 1, portTo: 9 }] });
    assert.equal((await api.req('GET', `/rules/${dyn}`)).json.fragmentPolicy, 'unfragmented', 'dynamic NAT');
  });

  it('rejects what MidoNet rejects', async () => {
    const c = await api.create('/chains', { name: 'c' });
    const post = (body: unknown) => api.req('POST', `/chains/${c}/rules`, { body });
    assert.equal((await post({})).status, 400, 'type required');
    assert.equal((await post({ type: 'teleport' })).status, 400);
    assert.equal((await post({ type: 'snat', flowAction: 'accept' })).status, 400, 'natTargets required');
    assert.equal((await post({ type: 'rev_snat' })).status, 400, 'flowAction required');
    assert.equal((await post({ type: 'jump' })).status, 400, 'jumpChainId required');
    assert.equal((await post({ type: 'jump', jumpChainId: randomUUID() })).status, 404);
    assert.equal((await post({ type: 'accept', tpDst: { start: 22, end: 22 }, fragmentPolicy: 'any' })).status, 400);
    assert.equal((await post({ type: 'accept', dlType: 5 })).status, 400);
    assert.equal((await post({ type: 'accept', nwSrcAddress: '300.1.1.1' })).status, 400);
    assert.equal((await post({ type: 'accept', dlSrcMask: 'ffff' })).status, 400);
    assert.equal((await rules(c)).length, 0, 'nothing was written');
  });

  it('deletes the jump rules that lead to a deleted chain', async () => {
    const top = await api.create('/chains', { name: 'top' });
    const target = await api.create('/chains', { name: 'target' });
    const j = await api.create(`/chains/${top}/rules`, { type: 'jump', jumpChainId: target });
    assert.equal((await api.req('GET', `/rules/${j}`)).json.jumpChainName, 'target');
    await api.create(`/chains/${target}/rules`, { type: 'accept' });
    assert.equal((await api.req('DELETE', `/chains/${target}`)).status, 204);
    assert.equal((await api.req('GET', `/rules/${j}`)).status, 404);
    assert.deepEqual(await rules(top), []);
  });
});
