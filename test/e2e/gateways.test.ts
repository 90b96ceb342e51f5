/**
 * Two gateways, one uplink each, as in the quickstart: the provider prefers one way out for our
 * traffic and the other way back, so replies to SNATed flows arrive at the gateway that did not
 * send them; the uplinks' stateful port group gives that gateway the NAT state first. Then one
 * gateway's agent dies and traffic goes on through the other.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bind, Lab, metrics, nsExec, plug, sh, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';

describe('two BGP gateways with a stateful port group', { timeout: 300_000 }, () => {
  let lab: Lab;
  let gw1: LabHost;
  let gw2: LabHost;
  let compute: LabHost;
  let provider: LabVm;
  let vm: LabVm;
  let router: string;
  const uplinks: string[] = [];
  let bird: ChildProcess | null = null;

  const port = async (id: string) => (await lab.call('GET', `/ports/${id}`)).json;
  const learned = async () => (await lab.call('GET', `/routers/${router}/routes`)).json.filter((r: { learned: boolean }) => r.learned);
  const ping = (count = 3) => nsExec(vm.ns, ['ping', '-c', String(count), '-i', '0.3', '-W', '2', '100.64.0.10']);

  before(async () => {
    lab = await Lab.create();
    gw1 = await lab.addHost('gateway1');
    gw2 = await lab.addHost('gateway2');
    compute = await lab.addHost('compute1');
    await tunnelZone(lab);
    // The provider: one namespace with a link to each gateway and "the internet" (100.64.0.10) behind it.
    provider = await lab.addVm(gw1, { mac: '02:00:c6:33:64:01', cidr: '198.51.100.1/30' });
    const second = `u2${lab.tag}`;
    await sh('ip', ['-n', gw2.ns, 'link', 'add', second, 'type', 'veth', 'peer', 'name', `p2${lab.tag}`]);
    await sh('ip', ['-n', gw2.ns, 'link', 'set', `p2${lab.tag}`, 'netns', provider.ns]);
    await sh('ip', ['-n', provider.ns, 'link', 'set', `p2${lab.tag}`, 'name', 'eth1']);
    await sh('ip', ['-n', provider.ns, 'link', 'set', 'eth1', 'address', '02:00:cb:00:71:01']);
    for (const [ns, ifname] of [[provider.ns, 'eth1'], [gw2.ns, second]]) {
      await sh('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    }
    await sh('ip', ['-n', provider.ns, 'addr', 'add', '203.0.113.1/30', 'dev', 'eth1']);
    await sh('ip', ['-n', provider.ns, 'addr', 'add', '100.64.0.10/32', 'dev', 'lo']);
    // Its BIRD: gateway1's session also carries 100.64.0.0/24 (our way out); routes learned from
    // gateway2 are preferred (the way back).
    const conf = join(lab.dir, 'provider.conf');
    writeFileSync(conf, [
      'router id 100.64.0.10;',
      'protocol device {}',
      'protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }',
      'protocol static upstream { ipv4; route 0.0.0.0/0 unreachable; route 100.64.0.0/24 unreachable; }',
      'protocol bgp gateway1 { local 198.51.100.1 as 64513; neighbor 198.51.100.2 as 64512; hold time 15; keepalive time 5; connect retry time 5;',
      '  ipv4 { import filter { preference = 50; accept; }; export where proto = "upstream"; }; }',
      'protocol bgp gateway2 { local 203.0.113.1 as 64514; neighbor 203.0.113.2 as 64512; hold time 15; keepalive time 5; connect retry time 5;',
      '  ipv4 { import all; export where proto = "upstream" && net = 0.0.0.0/0; }; }',
    ].join('\n'));
    bird = spawn('ip', ['netns', 'exec', provider.ns, 'bird', '-f', '-c', conf, '-s', join(lab.dir, 'provider.ctl')], { stdio: 'ignore' });

    vm = await lab.addVm(compute, { mac: '02:00:0a:00:00:0a', cidr: '10.0.0.10/24', gateway: '10.0.0.1' });
    router = await lab.create('/routers', { name: 'Edge Router' });
    uplinks.push(await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '198.51.100.2', networkLength: 30, portMac: '02:00:c6:33:64:02' }));
    uplinks.push(await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '203.0.113.2', networkLength: 30, portMac: '02:00:cb:00:71:02' }));
    const inside = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
    const net = await lab.create('/bridges', { name: 'tenant' });
    const bp = await lab.create(`/bridges/${net}/ports`, { type: 'Bridge' });
    await lab.call('POST', `/ports/${inside}/link`, { peerId: bp });
    await lab.create(`/routers/${router}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '10.0.0.0', dstNetworkLength: 24, nextHopPort: inside, weight: 100 });
    // SNAT to 192.0.2.1 on the way out of either uplink; the uplinks share flow state.
    const pre = await lab.create('/chains', { name: 'pre' });
    const post = await lab.create('/chains', { name: 'post' });
    await lab.create(`/chains/${pre}/rules`, { type: 'rev_snat', flowAction: 'accept', nwDstAddress: '192.0.2.1', nwDstLength: 32 });
    await lab.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', outPorts: uplinks, nwSrcAddress: '10.0.0.0', nwSrcLength: 24, natTargets: [{ addressFrom: '192.0.2.1', addressTo: '192.0.2.1', portFrom: 20000, portTo: 30000 }] });
    const group = await lab.create('/port_groups', { name: 'uplinks', stateful: true });
    for (const u of uplinks) await lab.create(`/port_groups/${group}/ports`, { portId: u });
    const r = (await lab.call('GET', `/routers/${router}`)).json;
    await lab.call('PUT', `/routers/${router}`, { ...r, asNumber: 64512, inboundFilterId: pre, outboundFilterId: post });
    await lab.create(`/routers/${router}/bgp_peers`, { asNumber: 64513, address: '198.51.100.1', connectRetry: 5, holdTime: 15, keepAlive: 5 });
    await lab.create(`/routers/${router}/bgp_peers`, { asNumber: 64514, address: '203.0.113.1', connectRetry: 5, holdTime: 15, keepAlive: 5 });
    await lab.create(`/routers/${router}/bgp_networks`, { subnetAddress: '192.0.2.0', subnetLength: 24 });
    await plug(lab, net, compute, vm);
    await bind(lab, uplinks[0]!, gw1, provider);
    const r2 = await lab.call('POST', `/hosts/${gw2.id}/ports`, { portId: uplinks[1], interfaceName: second });
    assert.equal(r2.status, 201);
  });
  after(async () => {
    bird?.kill();
    await lab?.destroy();
  });

  it('brings up a session on each gateway', async () => {
    for (const u of uplinks) await lab.until(async () => /Established/.test((await port(u)).bgpStatus ?? ''), `session on ${u}`, 60_000);
    await lab.until(async () => (await learned()).length === 3, 'two default routes and 100.64.0.0/24 learned', 30_000);
  });

  it('finds the NAT state at the gateway the replies come back through', async () => {
    const way = await nsExec(provider.ns, ['ip', 'route', 'get', '192.0.2.1']);
    assert.match(way.stdout, /dev eth1/, 'the provider answers through gateway2');
    const r = await ping();
    assert.equal(r.code, 0, r.stdout + JSON.stringify(await Promise.all([gw1, gw2, compute].map((h) => metrics(lab, h)))));
    assert.ok((await metrics(lab, gw2)).workflow.stateReceived > 0, 'gateway2 got the NAT state without sending the flow');
  });

  it('goes on through the other gateway when one agent dies', async () => {
    await lab.killAgent(gw1);
    await lab.until(async () => (await learned()).every((r: { nextHopPort: string }) => r.nextHopPort === uplinks[1]), 'gateway1\'s routes gone with it', 20_000);
    await lab.until(async () => (await ping(1)).code === 0, 'traffic through gateway2', 30_000);
  });
});
