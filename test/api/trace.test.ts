import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiFixture, V } from '../helpers/api.ts';
import { floatingIpTopology } from '../helpers/floating-ip.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/midonet.js', import.meta.url));

describe('packet trace (API and `midonet trace`)', () => {
  let api: ApiFixture;
  let url: string;
  let ports: { uplink: string; vm: string };
  before(async () => {
    api = await ApiFixture.start();
    ports = await floatingIpTopology(api);
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = api.app.server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/midonet-api`;
  });
  after(() => api.close());

  it('traces a packet to a floating IP through DNAT to the VM', async () => {
    const r = await api.req('POST', '/trace', { body: { inPort: ports.uplink, srcIp: '198.51.100.7', dstIp: '172.16.0.50', proto: 'tcp', dstPort: 22 }, type: V('PacketTrace-v1') });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.action, 'forward');
    assert.equal(r.json.outputs[0].portId, ports.vm);
    assert.ok(r.json.outputs[0].rewrites.includes('ip.dst=10.0.1.5'));
    assert.ok(r.json.outputs[0].rewrites.includes('eth.dst=02:bb:00:00:00:05'));
    assert.match(r.json.detailed, /dnat to 10\.0\.1\.5/);
    assert.match(r.json.detailed, /pre-routing/);
    assert.match(r.json.minimal, new RegExp(`output\\("${ports.vm}"\\);`));
    assert.ok(r.json.steps.some((s: { kind: string }) => s.kind === 'route'));
  });

  it('refuses bad descriptions with 400 and unknown ports with 404', async () => {
    const post = (body: unknown) => api.req('POST', '/trace', { body });
    assert.equal((await post({ srcIp: '1.1.1.1' })).status, 400);
    assert.equal((await post({ inPort: ports.uplink, srcIp: 'x', dstIp: '1.1.1.1' })).status, 400);
    assert.equal((await post({ inPort: ports.uplink, srcIp: '1.1.1.1', dstIp: '2.2.2.2', proto: 'sctp-ish' })).status, 400);
    assert.equal((await post({ inPort: '00000000-0000-0000-0000-000000000001', srcIp: '1.1.1.1', dstIp: '2.2.2.2' })).status, 404);
  });

  it('`midonet trace` prints the detailed or minimal form, and one line on errors', async () => {
    const args = ['trace', '--midonet-url', url, '--in-port', ports.vm, '--src-ip', '10.0.1.5', '--dst-ip', '172.16.0.254', '--proto', 'udp', '--dst-port', '53', '--eth-dst', '02:00:00:00:01:01'];
    const { stdout } = await run(process.execPath, [CLI, ...args, '--minimal']);
    // No ARP entry for the far end: the router would ask for it and park the packet.
    assert.match(stdout, /^parked \(waiting for ARP\);/);
    const detailed = await run(process.execPath, [CLI, ...args]);
    assert.match(detailed.stdout, /^packet: UDP 40000 -> 53 10\.0\.1\.5 -> 172\.16\.0\.254/);
    const bad = await run(process.execPath, [CLI, 'trace', '--midonet-url', 'http://127.0.0.1:1/midonet-api', '--in-port', ports.vm]).catch((e: { code: number; stderr: string }) => e);
    assert.equal((bad as { code: number }).code, 1);
    assert.match((bad as { stderr: string }).stderr, /^midonet: cannot reach the MidoNet API at http:\/\/127\.0\.0\.1:1\/midonet-api\n$/);
  });
});
