import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bind, Lab, nsExec, plug, prometheus, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';
import { HASH_SEND, HASH_SERVER } from '../helpers/traffic.ts';

/** One sample of an agent's Prometheus metric (labels as written, e.g. `{action="encap"}`). */
async function metric(host: LabHost, name: string, labels = ''): Promise<number> {
  const text = await prometheus(host);
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`no ${name}${labels} in ${host.name}'s metrics`);
  return Number(line.split(' ')[1]);
}

/** Timestamps (s) of the replies of `ping -D`. */
const replyTimes = (out: string) => [...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]));

describe('the kernel fast path (tc eBPF)', { timeout: 300_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let vmA: LabVm;
  let vmB: LabVm;
  let vmC: LabVm;
  let vmD: LabVm;
  let vmX: LabVm;
  let portB: string;
  let portC: string;

  before(async () => {
    lab = await Lab.create();
    // Flows idle for 3 s go: the expiry test need not wait a minute.
    h1 = await lab.addHost('fast1', ['--flow-idle', '3']);
    h2 = await lab.addHost('fast2', ['--flow-idle', '3']);
    await tunnelZone(lab);
    const net1 = await lab.create('/bridges', { name: 'fp-net1' });
    const net2 = await lab.create('/bridges', { name: 'fp-net2' });
    const router = await lab.create('/routers', { name: 'fp-router' });
    for (const [net, addr] of [[net1, '10.56.0.1'], [net2, '10.57.0.1']] as const) {
      const rp = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: addr, networkLength: 24 });
      const bp = await lab.create(`/bridges/${net}/ports`, { type: 'Bridge' });
      assert.equal((await lab.call('POST', `/ports/${rp}/link`, { peerId: bp })).status, 201);
      await lab.create(`/routers/${router}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: addr.replace(/1$/, '0'), dstNetworkLength: 24, nextHopPort: rp, weight: 100 });
    }
    // An uplink with source NAT to 100.77.0.1, and "the outside" (vmX) behind it on the other host.
    const uplink = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '100.77.0.1', networkLength: 24 });
    await lab.create(`/routers/${router}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '100.77.0.0', dstNetworkLength: 24, nextHopPort: uplink, weight: 100 });
    const pre = await lab.create('/chains', { name: 'fp-pre' });
    const post = await lab.create('/chains', { name: 'fp-post' });
    await lab.create(`/chains/${pre}/rules`, { type: 'rev_snat', flowAction: 'accept', nwDstAddress: '100.77.0.1', nwDstLength: 32, position: 1 });
    await lab.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', outPorts: [uplink], nwSrcAddress: '10.56.0.0', nwSrcLength: 16, natTargets: [{ addressFrom: '100.77.0.1', addressTo: '100.77.0.1', portFrom: 10000, portTo: 20000 }], position: 1 });
    const r = (await lab.call('GET', `/routers/${router}`)).json;
    await lab.call('PUT', `/routers/${router}`, { ...r, inboundFilterId: pre, outboundFilterId: post });
    vmX = await lab.addVm(h2, { mac: '02:00:64:4d:00:fe', cidr: '100.77.0.254/24' });
    await nsExec(vmX.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
    await bind(lab, uplink, h2, vmX);
    vmA = await lab.addVm(h1, { mac: '02:00:0a:38:00:0a', cidr: '10.56.0.10/24', gateway: '10.56.0.1' });
    vmB = await lab.addVm(h1, { mac: '02:00:0a:38:00:0b', cidr: '10.56.0.11/24', gateway: '10.56.0.1' });
    vmC = await lab.addVm(h2, { mac: '02:00:0a:38:00:0c', cidr: '10.56.0.12/24', gateway: '10.56.0.1' });
    vmD = await lab.addVm(h2, { mac: '02:00:0a:39:00:0d', cidr: '10.57.0.13/24', gateway: '10.57.0.1' });
    // The MTU DHCP offers on a 1500-byte underlay: full segments fit the tunnel unfragmented.
    for (const vm of [vmA, vmB, vmC, vmD]) await nsExec(vm.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
    await plug(lab, net1, h1, vmA);
    portB = await plug(lab, net1, h1, vmB);
    portC = await plug(lab, net1, h2, vmC);
    await plug(lab, net2, h2, vmD);
    await lab.until(async () => (await metric(h1, 'midonet_agent_fast_path_enabled')) === 1 && (await metric(h2, 'midonet_agent_fast_path_enabled')) === 1, 'fast path on');
  });
  after(async () => {
    await lab?.destroy();
  });

  const ping = (vm: LabVm, dst: string, count = 30) => nsExec(vm.ns, ['ping', '-c', String(count), '-i', '0.02', '-W', '1', dst]);
  const fast = (h: LabHost, action: string) => metric(h, 'midonet_agent_fast_path_packets_total', `{action="${action}"}`);

  it('forwards flow hits in the kernel: between local ports, into VXLAN and out of it, routed with MAC and TTL rewrites', async () => {
    const local = await fast(h1, 'local');
    const r1 = await ping(vmA, '10.56.0.11');
    assert.equal(r1.code, 0, r1.stdout);
    assert.ok((await fast(h1, 'local')) - local >= 40, 'local frames forwarded by the kernel (both ways)');

    const [encap, decap] = [await fast(h1, 'encap'), await fast(h2, 'decap')];
    const r2 = await ping(vmA, '10.56.0.12', 60);
    assert.equal(r2.code, 0, r2.stdout);
    assert.ok((await fast(h1, 'encap')) - encap >= 20, 'encapsulated by the kernel on the way out');
    assert.ok((await fast(h2, 'decap')) - decap >= 20, 'decapsulated by the kernel on the way in');

    const routed = await fast(h1, 'encap');
    const r3 = await ping(vmA, '10.57.0.13');
    assert.equal(r3.code, 0, r3.stdout);
    assert.equal([...r3.stdout.matchAll(/ttl=63 /g)].length, 30, 'every reply crossed one router hop (TTL rewritten)');
    assert.ok((await fast(h1, 'encap')) - routed >= 20, 'routed frames forwarded by the kernel');
    assert.ok((await metric(h1, 'midonet_agent_flow_lookups_total', '{result="kernel_hit"}')) > 0, "the kernel's hits are counted as the flows'");
    assert.equal(await fast(h1, 'error'), 0);
  });

  it('moves 100 MiB over TCP across hosts through the kernel, byte for byte', async () => {
    const encap = await fast(h1, 'encap');
    const server = nsExec(vmC.ns, ['node', '-e', HASH_SERVER(5003)], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = await nsExec(vmA.ns, ['node', '-e', HASH_SEND('10.56.0.12', 5003, 100)], 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((await server).stdout.trim(), sent.stdout.trim());
    // Counted per packet the kernel handled: a super-frame of up to 64 KiB each.
    assert.ok((await fast(h1, 'encap')) - encap > 1000, 'the stream went through the kernel');
  });

  it('source-NATs a TCP stream in the kernel, addresses, ports and checksums rewritten, byte for byte', async () => {
    const [out, back] = [await fast(h1, 'encap'), await fast(h2, 'encap')];
    const server = nsExec(vmX.ns, ['node', '-e', `const h = require('crypto').createHash('sha256'); let n = 0; const srv = require('net').createServer((s) => { const from = s.remoteAddress; s.on('data', (d) => { n += d.length; h.update(d); }); s.on('end', () => { console.log(from, n, h.digest('hex')); s.end(); srv.close(); }); }).listen(5004, '0.0.0.0')`], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = await nsExec(vmA.ns, ['node', '-e', HASH_SEND('100.77.0.254', 5004, 20)], 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((await server).stdout.trim(), `100.77.0.1 ${sent.stdout.trim()}`, 'the outside saw the router\'s address and every byte');
    assert.ok((await fast(h1, 'encap')) - out > 100, 'the stream out went through the kernel');
    assert.ok((await fast(h2, 'encap')) - back > 100, 'its ACKs came back through the kernel (reverse NAT)');
    assert.equal(await fast(h1, 'error'), 0);
  });

  it('drops the next packet once a rule says so, and forwards again once the rule is gone', async () => {
    const chain = await lab.create('/chains', { name: 'fp-to-vmC' });
    const port = (await lab.call('GET', `/ports/${portC}`)).json;
    assert.equal((await lab.call('PUT', `/ports/${portC}`, { ...port, outboundFilterId: chain })).status, 204);
    const drops = await fast(h1, 'drop');
    const pinger = nsExec(vmA.ns, ['ping', '-D', '-c', '80', '-i', '0.05', '-W', '1', '10.56.0.12'], 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const added = Date.now() / 1000;
    const rule = await lab.create(`/chains/${chain}/rules`, { type: 'drop', nwProto: 1, position: 1 });
    const addedDone = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const removed = Date.now() / 1000;
    assert.equal((await lab.call('DELETE', `/rules/${rule}`)).status, 204);
    const times = replyTimes((await pinger).stdout);
    assert.ok(times.some((t) => t < added), 'replies before the rule');
    const during = times.filter((t) => t > addedDone + 0.2 && t < removed);
    assert.deepEqual(during, [], 'no reply while the rule drops');
    assert.ok(times.some((t) => t > removed + 0.5), 'replies again once the rule is gone');
    assert.ok((await fast(h1, 'drop')) - drops >= 5, 'the kernel dropped what the rule said while it stood');
  });

  it('stops forwarding to a port that goes down, and starts again when it comes up', async () => {
    assert.equal((await ping(vmA, '10.56.0.11', 10)).code, 0);
    const port = (await lab.call('GET', `/ports/${portB}`)).json;
    assert.equal((await lab.call('PUT', `/ports/${portB}`, { ...port, adminStateUp: false })).status, 204);
    const down = await ping(vmA, '10.56.0.11', 10);
    assert.match(down.stdout, / 0 received/, 'nothing reaches a port that is down');
    assert.equal((await lab.call('PUT', `/ports/${portB}`, { ...port, adminStateUp: true })).status, 204);
    await lab.until(async () => (await ping(vmA, '10.56.0.11', 3)).code === 0, 'forwarding again');
  });

  it('keeps a flow the kernel uses, and expires idle ones from the kernel with their flows', async () => {
    const simulations = await metric(h1, 'midonet_agent_flow_lookups_total', '{result="miss"}');
    const expired = await metric(h1, 'midonet_agent_flows_expired_total');
    // 6 s of pings, twice the idle timeout: the kernel's counters keep the flow alive.
    const r = await nsExec(vmA.ns, ['ping', '-D', '-c', '60', '-i', '0.1', '-W', '1', '10.56.0.12'], 30_000);
    const times = replyTimes(r.stdout);
    assert.equal(times.length, 60, r.stdout);
    assert.ok((await metric(h1, 'midonet_agent_fast_path_flows')) > 0);
    assert.ok((await metric(h1, 'midonet_agent_flow_lookups_total', '{result="miss"}')) - simulations <= 4, 'no flow was simulated again while the kernel used it');
    await lab.until(async () => (await metric(h1, 'midonet_agent_fast_path_flows')) === 0, 'kernel flows expire with their flows', 15_000);
    assert.ok((await metric(h1, 'midonet_agent_flows_expired_total')) > expired);
  });

  it('falls back to userspace when mn-conf turns the fast path off, and back when it turns it on', async () => {
    const conf = async (hocon: string) => {
      const r = await fetch(`${lab.api}/conf/templates/default`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: hocon });
      assert.equal(r.status, 204, await r.text());
    };
    await conf('agent.datapath.fast_path = false');
    await lab.until(async () => (await metric(h1, 'midonet_agent_fast_path_enabled')) === 0 && (await metric(h2, 'midonet_agent_fast_path_enabled')) === 0, 'fast path off', 15_000);
    const hits = await metric(h1, 'midonet_agent_flow_lookups_total', '{result="kernel_hit"}');
    const r = await ping(vmA, '10.56.0.12');
    assert.equal(r.code, 0, r.stdout);
    assert.equal(await metric(h1, 'midonet_agent_fast_path_flows'), 0);
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(await metric(h1, 'midonet_agent_flow_lookups_total', '{result="kernel_hit"}'), hits, 'userspace forwarded everything');
    assert.equal((await nsExec(h1.ns, ['tc', 'filter', 'show', 'dev', vmA.ifname, 'ingress'])).stdout.trim(), '', 'no program left on the port');
    // Userspace alone with the VMs' offloads: super-frames cut and checksums finished by the agent.
    const server = nsExec(vmC.ns, ['node', '-e', HASH_SERVER(5005)], 60_000);
    await new Promise((res) => setTimeout(res, 500));
    const sent = await nsExec(vmA.ns, ['node', '-e', HASH_SEND('10.56.0.12', 5005, 20)], 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((await server).stdout.trim(), sent.stdout.trim());
    await conf('agent.datapath.fast_path = true');
    await lab.until(async () => (await metric(h1, 'midonet_agent_fast_path_enabled')) === 1, 'fast path on again', 15_000);
    const local = await fast(h1, 'local');
    assert.equal((await ping(vmA, '10.56.0.11')).code, 0);
    assert.ok((await fast(h1, 'local')) > local);
  });
});
