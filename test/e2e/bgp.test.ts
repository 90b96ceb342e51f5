/**
 * BGP on a gateway: the agent runs BIRD for the edge router's uplink port, an independent BIRD in
 * an "uplink router" namespace peers with it (AS 64513, as in the quickstart), and routes flow
 * both ways: it learns our 192.0.2.0/24, we learn its default route, a VM reaches an address
 * behind it. MD5, timers set through midonet-cli, and withdrawal when the peer dies.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bind, Lab, nsExec, plug, prometheus, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/midonet-cli.js', import.meta.url));
const PASSWORD = 'bgp-secret';

describe('BGP uplink through a real BGP daemon', { timeout: 300_000 }, () => {
  let lab: Lab;
  let gw: LabHost;
  let compute: LabHost;
  let uplink: LabVm;
  let vm: LabVm;
  let router: string;
  let uplinkPort: string;
  let peer: string;
  let peerBird: ChildProcess | null = null;
  const sock = () => join(lab.dir, 'uplink-bird.ctl');

  /** The provider's router: its own BIRD, AS 64513, advertising a default route. */
  function startPeerBird(): void {
    const conf = join(lab.dir, 'uplink-bird.conf');
    writeFileSync(conf, [
      'router id 198.51.100.1;',
      'protocol device {}',
      'protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }',
      'protocol static upstream { ipv4; route 0.0.0.0/0 unreachable; }',
      'protocol bgp midonet {',
      '  local 198.51.100.1 as 64513; neighbor 198.51.100.2 as 64512;',
      `  password "${PASSWORD}"; hold time 30; keepalive time 10; connect retry time 5;`,
      '  ipv4 { import all; export where proto = "upstream"; };',
      '}',
    ].join('\n'));
    peerBird = spawn('ip', ['netns', 'exec', uplink.ns, 'bird', '-f', '-c', conf, '-s', sock()], { stdio: 'ignore' });
  }
  const birdc = async (...args: string[]) => (await exec('birdc', ['-s', sock(), ...args])).stdout;
  const port = async () => (await lab.call('GET', `/ports/${uplinkPort}`)).json;
  const learned = async () => (await lab.call('GET', `/routers/${router}/routes`)).json.filter((r: { learned: boolean }) => r.learned);
  const cli = (cmd: string) => exec(process.execPath, [CLI, '-A', `--midonet-url=${lab.api}`, '-e', cmd]);

  before(async () => {
    lab = await Lab.create();
    gw = await lab.addHost('gateway1');
    compute = await lab.addHost('compute1');
    await tunnelZone(lab);
    uplink = await lab.addVm(gw, { mac: '02:00:c6:33:64:01', cidr: '198.51.100.1/30' });
    await nsExec(uplink.ns, ['ip', 'addr', 'add', '203.0.113.10/32', 'dev', 'lo']);
    vm = await lab.addVm(compute, { mac: '02:00:c0:00:02:0a', cidr: '192.0.2.10/24', gateway: '192.0.2.1' });
    // Quickstart chapter 6 and 7, through the MidoNet API.
    router = await lab.create('/routers', { name: 'Edge Router' });
    uplinkPort = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '198.51.100.2', networkLength: 30, portMac: '02:00:c6:33:64:02' });
    const inside = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '192.0.2.1', networkLength: 24 });
    const net = await lab.create('/bridges', { name: 'public' });
    const bp = await lab.create(`/bridges/${net}/ports`, { type: 'Bridge' });
    await lab.call('POST', `/ports/${inside}/link`, { peerId: bp });
    await lab.create(`/routers/${router}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '192.0.2.0', dstNetworkLength: 24, nextHopPort: inside, weight: 100 });
    await plug(lab, net, compute, vm);
    await bind(lab, uplinkPort, gw, uplink);
    startPeerBird();
    const r = (await lab.call('GET', `/routers/${router}`)).json;
    await lab.call('PUT', `/routers/${router}`, { ...r, asNumber: 64512 });
    peer = await lab.create(`/routers/${router}/bgp_peers`, { asNumber: 64513, address: '198.51.100.1', password: PASSWORD, connectRetry: 5 });
    await lab.create(`/routers/${router}/bgp_networks`, { subnetAddress: '192.0.2.0', subnetLength: 24 });
  });
  after(async () => {
    peerBird?.kill();
    await lab?.destroy();
  });

  it('brings the session up: the peer learns our network, we learn its default route', async () => {
    await lab.until(async () => /Established/.test((await port()).bgpStatus ?? ''), 'bgpStatus Established', 60_000);
    assert.match(await birdc('show', 'protocols'), /midonet\s+BGP\s+\S+\s+up\s+\S+\s+Established/);
    assert.match(await birdc('show', 'route', '192.0.2.0/24'), /192\.0\.2\.0\/24\s+unicast \[midonet .*via 198\.51\.100\.2/s);
    await lab.until(async () => (await learned()).some((r: any) => r.dstNetworkAddr === '0.0.0.0' && r.dstNetworkLength === 0 && r.nextHopGateway === '198.51.100.1' && r.nextHopPort === uplinkPort), 'learned default route');
    const text = await prometheus(gw);
    assert.match(text, /^midonet_agent_bgp_speakers 1$/m);
    assert.match(text, /^midonet_agent_bgp_sessions_established 1$/m);
    assert.match(text, /^midonet_agent_bgp_learned_routes [1-9]\d*$/m);
    const events = gw.log.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; status?: string });
    for (const msg of ['port bound', 'tunnel peer up']) assert.ok(events.some((e) => e.msg === msg), `logged: ${msg}`);
    assert.ok(events.some((e) => e.msg === 'BGP session state changed' && /Established/.test(e.status ?? '')), 'logged: BGP Established');
    assert.match(text, /^midonet_agent_link_notifications_total [1-9]\d*$/m, "the speaker's link came as a kernel notification");
  });

  it('lets a VM reach an address behind the peer', async () => {
    await lab.until(async () => (await nsExec(vm.ns, ['ping', '-c', '1', '-W', '1', '203.0.113.10'])).code === 0, 'ping 203.0.113.10', 20_000);
  });

  it('applies timers set through midonet-cli', async () => {
    await cli(`router ${router} bgp-peer ${peer} set hold-time 15 keep-alive 5`);
    await lab.until(async () => /Hold timer:\s+[\d.]+\/15\b/.test(await birdc('show', 'protocols', 'all', 'midonet')), 'hold time 15 negotiated', 60_000);
    assert.match(await birdc('show', 'protocols', 'all', 'midonet'), /Keepalive timer:\s+[\d.]+\/5\b/);
  });

  it('keeps the session down on an MD5 password mismatch, and says so', async () => {
    const p = (await lab.call('GET', `/bgp_peers/${peer}`)).json;
    await lab.call('PUT', `/bgp_peers/${peer}`, { ...p, password: 'not-the-secret' });
    await lab.until(async () => !/Established/.test((await port()).bgpStatus ?? ''), 'session down', 60_000);
    await new Promise((r) => setTimeout(r, 8000));
    const status = (await port()).bgpStatus as string;
    assert.doesNotMatch(status, /Established/, `still down after the retry interval: ${status}`);
    assert.doesNotMatch(await birdc('show', 'protocols'), /Established/);
    await lab.call('PUT', `/bgp_peers/${peer}`, { ...p, password: PASSWORD });
    await lab.until(async () => /Established/.test((await port()).bgpStatus ?? ''), 'session up again', 60_000);
  });

  it('withdraws the learned route within the hold time once the peer dies', async () => {
    await lab.until(async () => (await learned()).length > 0, 'route learned again');
    peerBird?.kill('SIGKILL');
    const t0 = Date.now();
    await lab.until(async () => (await learned()).length === 0, 'learned route withdrawn', 30_000);
    const ms = Date.now() - t0;
    console.log(JSON.stringify({ e2e: 'bgp', metric: 'learned_route_withdrawn_after_peer_death_ms', value: ms, holdTimeMs: 15000 }));
    assert.ok(ms < 15000 + 3000, `withdrawn after ${ms} ms (hold time 15 s)`);
  });

  it('stops within 2 s on SIGTERM with its speaker running: BIRD gone, the host not alive', async () => {
    const bird = async () => (await exec('pgrep', ['-f', `bird .*${join(lab.dir, `${gw.name}.state`)}`]).catch(() => ({ stdout: '' }))).stdout.trim();
    assert.notEqual(await bird(), '', 'a speaker runs before');
    const t0 = Date.now();
    await lab.killAgent(gw, 'SIGTERM');
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `exited after ${ms} ms`);
    assert.equal(gw.agent.exitCode, 0);
    await lab.until(async () => (await bird()) === '', 'BIRD stopped', 5000);
    await lab.until(async () => (await lab.call('GET', `/hosts/${gw.id}`)).json.alive === false, 'host not alive', 5000);
  });
});
