/**
 * What MidoNet's server tolerated and clients came to rely on (eucanetd's, byte for byte): the
 * raw header text `Location: `, a NUL after a PUT body, the text "null" for a nullable number;
 * and header names in MidoNet's case generally.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classify } from '../../src/agent/interfaces.ts';
import { ClusterProcess } from '../helpers/cluster.ts';
import { rawHttp } from '../helpers/raw-http.ts';

const VND = (t: string) => `application/vnd.org.midonet.${t}+json`;

describe("clients' habits MidoNet tolerated", () => {
  let dir: string;
  let cluster: ClusterProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'habits-'));
    cluster = await ClusterProcess.start(['--data-dir', dir]);
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes Location (and every header name) in MidoNet\'s case', async () => {
    const r = await rawHttp(`${cluster.url}/routers`, 'POST', { 'Content-Type': VND('Router-v3') }, Buffer.from('{"name": "eucart", "tenantId": "euca_tenant_1"}'));
    assert.equal(r.status, 201);
    assert.ok(r.head.includes('\r\nLocation: http://'), r.head);
    assert.ok(r.head.includes('\r\nContent-Length: '), r.head);
    assert.doesNotMatch(r.head, /\r\n[a-z][\w-]*:/, 'no lowercase header name');
    const g = await rawHttp(`${cluster.url}/routers`, 'GET', { Accept: VND('collection.Router-v3') });
    assert.ok(g.head.includes('\r\nContent-Type: application/vnd.org.midonet.collection.Router-v3+json'), g.head);
  });

  it('takes a PUT body followed by a NUL byte, and "null" for a nullable number', async () => {
    const chain = /Location: (\S+)/.exec((await rawHttp(`${cluster.url}/chains`, 'POST', { 'Content-Type': VND('Chain-v1') }, Buffer.from('{"name": "sg_ingress_1", "tenantId": "euca_tenant_1"}'))).head)![1]!;
    const rule = await rawHttp(`${chain}/rules`, 'POST', { 'Content-Type': VND('Rule-v2') },
      Buffer.from('{"chainId": "' + chain.split('/').pop() + '", "position": "1", "type": "accept", "nwProto": "null", "invNwDst": "false", "tpDst": {"start": "22", "end": "22"}}'));
    assert.equal(rule.status, 201, rule.body);
    const ruleUrl = /Location: (\S+)/.exec(rule.head)![1]!;
    const got = JSON.parse((await rawHttp(ruleUrl, 'GET', { Accept: VND('Rule-v2') })).body) as { nwProto: number | null; tpDst: { start: number } };
    assert.equal(got.nwProto, null);
    assert.equal(got.tpDst.start, 22);
    // eucanetd's PUT of a bridge's inbound filter: the JSON, then one NUL byte.
    const bridge = /Location: (\S+)/.exec((await rawHttp(`${cluster.url}/bridges`, 'POST', { 'Content-Type': VND('Bridge-v4') }, Buffer.from('{"name": "eucabr", "tenantId": "euca_tenant_1"}'))).head)![1]!;
    const body = `{"name": "eucabr", "tenantId": "euca_tenant_1", "inboundFilterId": "${chain.split('/').pop()}"}`;
    const put = await rawHttp(bridge, 'PUT', { 'Content-Type': VND('Bridge-v4') }, Buffer.concat([Buffer.from(body), Buffer.from([0])]));
    assert.ok(put.status === 200 || put.status === 204, `${put.status} ${put.body}`);
    assert.equal((JSON.parse((await rawHttp(bridge, 'GET', { Accept: VND('Bridge-v4') })).body) as { inboundFilterId: string }).inboundFilterId, chain.split('/').pop());
    const junk = await rawHttp(bridge, 'PUT', { 'Content-Type': VND('Bridge-v4') }, Buffer.from(`${body} trailing`));
    assert.equal(junk.status, 400, 'text after the JSON value is still refused');
  });

  it('names the unknown root resource in a 404, under any prefix', async () => {
    const r = await rawHttp(cluster.url.replace('/midonet-api', '/nothing-here'), 'GET', { Accept: '*/*' });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).message, 'Root resource nothing-here not found');
  });

  it("reports interfaces' endpoints as MidoNet's agent does", () => {
    assert.deepEqual(classify({ ifname: 'lo', link_type: 'loopback' }), { type: 'Virtual', endpoint: 'LOCALHOST' });
    assert.deepEqual(classify({ ifname: 'tap0', link_type: 'ether', linkinfo: { info_kind: 'tun' } }), { type: 'Virtual', endpoint: 'TUNTAP' });
    assert.deepEqual(classify({ ifname: 'gre1', link_type: 'gre', linkinfo: { info_kind: 'gre' } }), { type: 'Tunnel', endpoint: 'GRE' });
    assert.deepEqual(classify({ ifname: 'eno1', link_type: 'ether' }), { type: 'Physical', endpoint: 'DATAPATH' });
    for (const kind of ['veth', 'bridge', 'bond', 'vlan', 'vxlan']) assert.deepEqual(classify({ ifname: 'x', link_type: 'ether', linkinfo: { info_kind: kind } }), { type: 'Virtual', endpoint: 'UNKNOWN' });
  });
});
