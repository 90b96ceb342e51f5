import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bind, Lab, metrics, nsExec, plug, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';
import { HASH_SEND, HASH_SERVER } from '../helpers/traffic.ts';

const route = (dst: string, len: number, port: string) => ({ type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: dst, dstNetworkLength: len, nextHopPort: port, weight: 100 });

/** A TCP echo server and a client that keeps one connection busy, as node one-liners run in VMs. */
const ECHO_SERVER = (port: number) => `require('net').createServer((s) => s.pipe(s)).listen(${port})`;
const SEND = (host: string, port: number, bytes: number) =>
  `const s = require('net').connect(${port}, '${host}'); let n = 0; s.on('data', (d) => { n += d.length; if (n >= ${bytes}) { console.log(n); s.destroy(); } }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); s.write(Buffer.alloc(${bytes}, 7));`;
/** Sends a line every 100 ms for `ms`, prints how many came back. */
const CHATTER = (host: string, port: number, ms: number) =>
  `const s = require('net').connect(${port}, '${host}'); let got = 0; s.on('data', (d) => (got += d.length)); s.on('error', (e) => { console.error(e.message); process.exit(1); }); s.on('connect', () => { const t = setInterval(() => s.write('ping\\n'), 100); setTimeout(() => { clearInterval(t); setTimeout(() => { console.log(got); s.destroy(); }, 300); }, ${ms}); });`;

describe('agents on two hosts: routing, DHCP, NAT, chains, failures', { timeout: 300_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let vm1: LabVm;
  let vm2: LabVm;
  let vm3: LabVm;
  let ext: LabVm;
  let vm1Port: string;
  let vm2Port: string;
  let router: string;
  const bg: { kill(): void }[] = [];

  before(async () => {
    lab = await Lab.create();
    h1 = await lab.addHost('host1');
    h2 = await lab.addHost('host2');
    await tunnelZone(lab);
    const net1 = await lab.create('/bridges', { name: 'net1' });
    const net2 = await lab.create('/bridges', { name: 'net2' });
    router = await lab.create('/routers', { name: 'edge' });
    const rp1 = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.10.0.1', networkLength: 24 });
    const rp2 = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.20.0.1', networkLength: 24 });
    const uplink = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '172.16.0.1', networkLength: 24 });
    for (const [rp, net] of [[rp1, net1], [rp2, net2]] as const) {
      const bp = await lab.create(`/bridges/${net}/ports`, { type: 'Bridge' });
      assert.equal((await lab.call('POST', `/ports/${rp}/link`, { peerId: bp })).status, 201);
    }
    await lab.create(`/routers/${router}/routes`, route('10.10.0.0', 24, rp1));
    await lab.create(`/routers/${router}/routes`, route('10.20.0.0', 24, rp2));
    await lab.create(`/routers/${router}/routes`, route('172.16.0.0', 24, uplink));
    // Floating IP 172.16.0.50 for vm3, SNAT to the uplink address for everyone else.
    const pre = await lab.create('/chains', { name: 'pre-routing' });
    const post = await lab.create('/chains', { name: 'post-routing' });
    const target = (ip: string, from = 0, to = 0) => [{ addressFrom: ip, addressTo: ip, portFrom: from, portTo: to }];
    await lab.create(`/chains/${pre}/rules`, { type: 'dnat', flowAction: 'accept', nwDstAddress: '172.16.0.50', nwDstLength: 32, natTargets: target('10.20.0.13'), position: 1 });
    await lab.create(`/chains/${pre}/rules`, { type: 'rev_snat', flowAction: 'accept', nwDstAddress: '172.16.0.1', nwDstLength: 32, position: 2 });
    await lab.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', outPorts: [uplink], nwSrcAddress: '10.20.0.13', nwSrcLength: 32, natTargets: target('172.16.0.50'), position: 1 });
    await lab.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', outPorts: [uplink], nwSrcAddress: '10.0.0.0', nwSrcLength: 8, natTargets: target('172.16.0.1', 10000, 20000), position: 2 });
    const r = (await lab.call('GET', `/routers/${router}`)).json;
    await lab.call('PUT', `/routers/${router}`, { ...r, inboundFilterId: pre, outboundFilterId: post });
    // DHCP on net2 for a VM that has no address yet.
    await lab.create(`/bridges/${net2}/dhcp`, { subnetPrefix: '10.20.0.0', subnetLength: 24, defaultGateway: '10.20.0.1', dnsServerAddrs: ['10.20.0.2'] });
    await lab.create(`/bridges/${net2}/dhcp/10.20.0.0_24/hosts`, { macAddr: '02:00:0a:14:00:0e', ipAddr: '10.20.0.14', name: 'vm4' });

    vm1 = await lab.addVm(h1, { mac: '02:00:0a:0a:00:0b', cidr: '10.10.0.11/24', gateway: '10.10.0.1' });
    vm2 = await lab.addVm(h2, { mac: '02:00:0a:0a:00:0c', cidr: '10.10.0.12/24', gateway: '10.10.0.1' });
    vm3 = await lab.addVm(h2, { mac: '02:00:0a:14:00:0d', cidr: '10.20.0.13/24', gateway: '10.20.0.1' });
    ext = await lab.addVm(h1, { mac: '02:00:ac:10:00:fe', cidr: '172.16.0.254/24' });
    // The provider's router reaches floating IPs through our uplink, as an upstream router would.
    await nsExec(ext.ns, ['ip', 'route', 'add', '172.16.0.50/32', 'via', '172.16.0.1']);
    vm1Port = await plug(lab, net1, h1, vm1);
    vm2Port = await plug(lab, net1, h2, vm2);
    await plug(lab, net2, h2, vm3);
    await bind(lab, uplink, h1, ext);
  });
  after(async () => {
    for (const p of bg) p.kill();
    await lab?.destroy();
  });

  const ping = (vm: LabVm, dst: string, count = 3) => nsExec(vm.ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', dst]);
  const logs = () => lab.hosts.map((h) => `${h.name}: ${h.log.join('')}`).join('\n');

  it('routes between bridges across hosts, and answers pings to the router', async () => {
    const r = await ping(vm1, '10.20.0.13');
    assert.equal(r.code, 0, r.stdout + logs());
    assert.equal((await ping(vm3, '10.20.0.1', 1)).code, 0, 'router port answers');
  });

  it('moves a TCP stream between VMs on one bridge across hosts', async () => {
    const server = nsExec(vm2.ns, ['node', '-e', ECHO_SERVER(5001)], 20_000);
    bg.push({ kill: () => void nsExec(vm2.ns, ['pkill', '-f', 'listen(5001)']) });
    await new Promise((r) => setTimeout(r, 500));
    const r = await nsExec(vm1.ns, ['node', '-e', SEND('10.10.0.12', 5001, 1_000_000)], 20_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1000000');
    void server;
  });

  it('moves 100 MiB over TCP across hosts byte for byte, VMs keeping their default offloads', async () => {
    const features = (await nsExec(vm1.ns, ['ethtool', '-k', 'eth0'])).stdout;
    assert.match(features, /tcp-segmentation-offload: on/);
    assert.match(features, /tx-checksumming: on/);
    const server = nsExec(vm2.ns, ['node', '-e', HASH_SERVER(5002)], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = await nsExec(vm1.ns, ['node', '-e', HASH_SEND('10.10.0.12', 5002, 100)], 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    const got = await server;
    assert.equal(got.stdout.trim(), sent.stdout.trim());
    assert.match(got.stdout, /^104857600 [0-9a-f]{64}/);
  });

  it('gives a VM its address from the agent with a real DHCP client', async () => {
    const vm4 = await lab.addVm(h1, { mac: '02:00:0a:14:00:0e' });
    const net2 = (await lab.call('GET', '/bridges')).json.find((b: { name: string }) => b.name === 'net2').id;
    await plug(lab, net2, h1, vm4);
    const script = join(lab.dir, 'dhclient-script');
    // Only set the address: the real script would rewrite this machine's resolv.conf.
    writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; echo "$new_ip_address $new_routers $new_domain_name_servers $new_interface_mtu" > ${lab.dir}/lease-vm4;; esac\n`, { mode: 0o755 });
    const r = await nsExec(vm4.ns, ['dhclient', '-1', '-sf', script, '-lf', join(lab.dir, 'vm4.leases'), '-pf', join(lab.dir, 'vm4.pid'), 'eth0'], 30_000);
    assert.equal(r.code, 0, r.stderr + logs());
    bg.push({ kill: () => void nsExec(vm4.ns, ['dhclient', '-x', '-pf', join(lab.dir, 'vm4.pid')]) });
    const addr = await nsExec(vm4.ns, ['ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(addr.stdout, /10\.20\.0\.14\/24/);
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(readFileSync(join(lab.dir, 'lease-vm4'), 'utf8').trim().split(' '), ['10.20.0.14', '10.20.0.1', '10.20.0.2', '1450']);
    assert.equal((await ping(vm4, '10.20.0.1', 1)).code, 0);
  });

  it('SNATs a VM on one host out of the uplink on the other, and the replies find their way back', async () => {
    const r = await ping(vm2, '172.16.0.254');
    assert.equal(r.code, 0, r.stdout + logs() + JSON.stringify([await metrics(lab, h1), await metrics(lab, h2)]));
    const m = await metrics(lab, h2);
    assert.ok(m.workflow.stateSent > 0, 'NAT state was pushed to the uplink host');
    assert.ok((await metrics(lab, h1)).workflow.stateReceived > 0);
    const tcp = nsExec(ext.ns, ['node', '-e', ECHO_SERVER(5002)], 20_000);
    bg.push({ kill: () => void nsExec(ext.ns, ['pkill', '-f', 'listen(5002)']) });
    await new Promise((res) => setTimeout(res, 500));
    const t = await nsExec(vm2.ns, ['node', '-e', SEND('172.16.0.254', 5002, 100_000)], 20_000);
    assert.equal(t.stdout.trim(), '100000', t.stderr);
    void tcp;
  });

  it('reaches a VM through its floating IP from outside', async () => {
    const r = await ping(ext, '172.16.0.50');
    assert.equal(r.code, 0, r.stdout + logs());
  });

  it('drops TCP/22 to a VM but not ping; an established connection survives the rule change', async () => {
    // vm1's port: accept replies to what vm1 started, drop new SSH, accept the rest.
    const toVm = await lab.create('/chains', { name: 'vm1-in' });
    await lab.create(`/chains/${toVm}/rules`, { type: 'accept', matchReturnFlow: true, position: 1 });
    const drop22 = await lab.create(`/chains/${toVm}/rules`, { type: 'drop', nwProto: 6, tpDst: { start: 22, end: 22 }, position: 2 });
    const fromVm = await lab.create('/chains', { name: 'vm1-out' });
    await lab.create(`/chains/${fromVm}/rules`, { type: 'accept', matchForwardFlow: true });
    const port = (await lab.call('GET', `/ports/${vm1Port}`)).json;
    assert.equal((await lab.call('PUT', `/ports/${vm1Port}`, { ...port, outboundFilterId: toVm, inboundFilterId: fromVm })).status, 204);

    void nsExec(vm1.ns, ['node', '-e', ECHO_SERVER(22)], 30_000);
    void nsExec(vm2.ns, ['node', '-e', ECHO_SERVER(22)], 30_000);
    bg.push({ kill: () => void nsExec(vm1.ns, ['pkill', '-f', 'listen(22)']) }, { kill: () => void nsExec(vm2.ns, ['pkill', '-f', 'listen(22)']) });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await ping(vm2, '10.10.0.11')).code, 0, 'ping passes');
    const blocked = await nsExec(vm2.ns, ['nc', '-z', '-w', '2', '10.10.0.11', '22']);
    assert.notEqual(blocked.code, 0, 'new SSH to vm1 is dropped');
    // vm1 starts a long connection to vm2:22; its replies are return flows, allowed in.
    const chatter = nsExec(vm1.ns, ['node', '-e', CHATTER('10.10.0.12', 22, 3000)], 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await lab.call('DELETE', `/rules/${drop22}`)).status, 204);
    const done = await chatter;
    assert.ok(Number(done.stdout.trim()) >= 5 * 25, `the connection kept flowing (${done.stdout.trim()} bytes echoed)`);
    const now = await nsExec(vm2.ns, ['nc', '-z', '-w', '2', '10.10.0.11', '22']);
    assert.equal(now.code, 0, 'once allowed, new SSH connects');
  });

  it('applies a topology change to an existing flow on its next packet (measured)', async () => {
    const pinger = nsExec(vm1.ns, ['ping', '-D', '-c', '60', '-i', '0.05', '-W', '1', '10.20.0.13'], 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now() / 1000;
    const bh = await lab.create(`/routers/${router}/routes`, { type: 'BlackHole', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '10.20.0.13', dstNetworkLength: 32, weight: 0 });
    const t1 = Date.now() / 1000;
    const out = (await pinger).stdout;
    const replies = [...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]));
    const last = Math.max(...replies);
    assert.ok(replies.length >= 10, 'pings flowed before the change');
    const lagMs = Math.round((last - t0) * 1000);
    console.log(JSON.stringify({ e2e: 'invalidation', metric: 'last_reply_after_route_change_ms', value: lagMs, apiCallMs: Math.round((t1 - t0) * 1000) }));
    assert.ok(last - t1 < 0.2, `replies stopped within 200 ms of the change (last ${lagMs} ms after it started)`);
    await lab.call('DELETE', `/routes/${bh}`);
  });

  it('drops and counts malformed frames injected on a bound interface, and keeps forwarding', async () => {
    const before = (await metrics(lab, h1)).workflow.malformed;
    const inject = `import('${new URL('../../src/agent/datapath/packet-socket.ts', import.meta.url).href}').then(({ PacketSocket }) => { const s = PacketSocket.open('eth0'); const frames = []; for (let i = 0; i < 50; i++) { const f = new Uint8Array(20 + i); f.fill(0xab); f.set([2,0,0,0,0,1, 2,0,0,0,0,2, 8, 0, 0x45, 0, 0xff, 0xff], 0); frames.push(f); } console.log(s.send(frames)); s.close(); })`;
    const r = await nsExec(vm1.ns, ['node', '--import', 'tsx', '-e', inject]);
    assert.equal(r.stdout.trim(), '50', r.stderr);
    await lab.until(async () => (await metrics(lab, h1)).workflow.malformed >= before + 50, 'malformed frames counted');
    assert.equal((await ping(vm1, '10.20.0.13', 1)).code, 0, 'the agent still forwards');
  });

  it('survives kill -9 of an agent: the port goes inactive, nothing is sent to it, traffic resumes after restart', async () => {
    await lab.killAgent(h2);
    await lab.until(async () => (await lab.call('GET', `/ports/${vm2Port}`)).json.active === false, 'port inactive after agent death', 40_000);
    const sentBefore = (await metrics(lab, h1)).datapath.tunnelTx;
    assert.notEqual((await ping(vm1, '10.10.0.12', 2)).code, 0);
    assert.equal((await metrics(lab, h1)).datapath.tunnelTx, sentBefore, 'host1 tunnels nothing to an inactive port');
    await lab.startAgent(h2);
    await lab.until(async () => (await lab.call('GET', `/ports/${vm2Port}`)).json.active === true, 'port active again');
    await lab.until(async () => (await ping(vm1, '10.10.0.12', 1)).code === 0, 'traffic resumes', 20_000);
  });
});
