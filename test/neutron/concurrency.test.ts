/** Writes at once in one cluster process: shared objects are retried inside the cluster, never answered 409. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NeutronFixture } from '../helpers/neutron.ts';

describe('Concurrent writes in one cluster', () => {
  let f: NeutronFixture;
  before(async () => {
    f = await NeutronFixture.start();
  });
  after(() => f.close());

  it('creates 60 VM ports on one network at once, every one with its own address and MAC', async () => {
    const net = await f.create('networks', 'network', { name: 'busy' });
    await f.create('subnets', 'subnet', { network_id: net.id, cidr: '10.60.0.0/24' });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      f.req('POST', '/v2.0/ports', { port: { network_id: net.id, name: `vm${i}`, device_owner: 'compute:nova' } })));
    assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201));
    const ports = answers.map((a) => a.json.port);
    assert.equal(new Set(ports.map((p) => p.fixed_ips[0].ip_address)).size, 60);
    assert.equal(new Set(ports.map((p) => p.mac_address)).size, 60);
    // Every port reached the shared objects its creation changes: the DHCP hosts and the group's addresses.
    const hosts = (await f.midonet.req('GET', `/bridges/${net.id}/dhcp/${encodeURIComponent('10.60.0.0_24')}/hosts`)).json;
    assert.equal(hosts.length, 60, JSON.stringify(hosts).slice(0, 200));
    const group = ports[0].security_groups[0];
    const addrs = (await f.midonet.req('GET', `/ip_addr_groups/${group}/ip_addrs`)).json;
    assert.equal(addrs.length, 60);
  });

  it('creates 60 bridge ports on one bridge at once through the MidoNet API', async () => {
    const bridge = await f.midonet.req('POST', '/bridges', { body: { name: 'shared' } });
    assert.equal(bridge.status, 201);
    const id = String(bridge.headers.location).split('/').pop();
    const answers = await Promise.all(Array.from({ length: 60 }, () => f.midonet.req('POST', `/bridges/${id}/ports`, { body: { type: 'Bridge' } })));
    assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201));
    assert.equal((await f.midonet.req('GET', `/bridges/${id}/ports`)).json.length, 60);
  });
});
