import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab, metrics, nsExec, plug, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';

const MM_CTL = fileURLToPath(new URL('../../bin/mm-ctl.js', import.meta.url));

describe('agents on two hosts: one bridge across hosts', { timeout: 120_000 }, () => {
  let lab: Lab;
  let vm1: LabVm;
  let vm2: LabVm;
  before(async () => {
    lab = await Lab.create();
    const h1 = await lab.addHost('host1');
    const h2 = await lab.addHost('host2');
    await tunnelZone(lab);
    const b = await lab.create('/bridges', { name: 'net1' });
    vm1 = await lab.addVm(h1, { mac: '02:00:0a:0a:00:01', cidr: '10.10.0.1/24' });
    vm2 = await lab.addVm(h2, { mac: '02:00:0a:0a:00:02', cidr: '10.10.0.2/24' });
    await plug(lab, b, h1, vm1);
    await plug(lab, b, h2, vm2);
    await plug(lab, b, h2, await lab.addVm(h2, { mac: '02:00:0a:0a:00:04', cidr: '10.10.0.4/24' }));
  });
  after(async () => lab?.destroy());

  it('binds and unbinds through mm-ctl on the host, as Nova does', async () => {
    const h1 = lab.hosts[0]!;
    const b = (await lab.call('GET', '/bridges')).json[0].id;
    const vm = await lab.addVm(h1, { mac: '02:00:0a:0a:00:03', cidr: '10.10.0.3/24' });
    const port = await lab.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const sock = ['--socket', join(lab.dir, `${h1.name}.sock`)];
    const ok = await nsExec(h1.ns, [process.execPath, MM_CTL, '--bind-port', port, vm.ifname, ...sock]);
    assert.equal(ok.code, 0, ok.stderr);
    await lab.until(async () => (await lab.call('GET', `/ports/${port}`)).json.active === true, 'mm-ctl bound port active');
    assert.equal((await nsExec(vm.ns, ['ping', '-c', '1', '-W', '2', '10.10.0.2'])).code, 0);
    const bad = await nsExec(h1.ns, [process.execPath, MM_CTL, '--bind-port', 'not-a-port', 'x', ...sock]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^mm-ctl: not-a-port is not a port id\n$/);
    assert.equal((await nsExec(h1.ns, [process.execPath, MM_CTL, '--unbind-port', port, ...sock])).code, 0);
    await lab.until(async () => (await lab.call('GET', `/ports/${port}`)).json.active === false, 'unbound port inactive');
    assert.equal((await lab.call('GET', `/ports/${port}`)).json.hostId, null);
    const down = await nsExec(h1.ns, [process.execPath, MM_CTL, '--unbind-port', port, '--socket', '/nonexistent.sock']);
    assert.match(down.stderr, /^mm-ctl: the agent is not running/);
  });

  it('pings across hosts through the VXLAN overlay', async () => {
    const r = await nsExec(vm1.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.10.0.2']);
    assert.equal(r.code, 0, r.stdout + r.stderr + lab.hosts.map((h) => h.log.join('')).join('\n'));
  });

  it('floods once per host: one tunnelled copy fans out to the ports there', async () => {
    const [h1, h2] = lab.hosts as [LabHost, LabHost];
    const m1 = await metrics(lab, h1);
    const before1 = m1.datapath;
    const before2 = (await metrics(lab, h2)).datapath;
    // A broadcast ping: one frame for every port of the bridge, two of them on host2.
    await nsExec(vm1.ns, ['ping', '-b', '-c', '1', '-W', '1', '10.10.0.255']);
    const a1 = await metrics(lab, h1);
    const after1 = a1.datapath;
    assert.equal(a1.workflow.multiPortTx - m1.workflow.multiPortTx, 1, 'sent as one multi-port packet');
    await lab.until(async () => (await metrics(lab, h2)).datapath.txFrames >= before2.txFrames + 2, 'both host2 ports got the frame');
    assert.equal(after1.tunnelTx - before1.tunnelTx, 1, 'one copy crossed the overlay');
  });

  it('applies mn-conf settings while running, by template and per host', async () => {
    const [h1, h2] = lab.hosts as [LabHost, LabHost];
    const conf = (path: string, body: string) => fetch(`${lab.api}/conf${path}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    assert.equal((await conf('/templates/default', 'agent.datapath.max_flow_count : 1234\nagent.bridge.mac_port_mapping_expire : 20s')).status, 204);
    assert.equal((await conf(`/nodes/${h2.id}`, 'agent.datapath.max_flow_count : 777')).status, 204);
    await lab.until(async () => (await metrics(lab, h1)).config.maxFlows === 1234, 'host1 picks up the template', 20_000);
    await lab.until(async () => (await metrics(lab, h2)).config.maxFlows === 777, 'host2 its own value', 20_000);
    assert.equal((await metrics(lab, h1)).config.sim.macExpiryMs, 20_000);
  });

  it('keeps forwarding on its cached topology while the cluster is down, and reconnects', async () => {
    const port = lab.cluster.port;
    await lab.cluster.kill9();
    const r = await nsExec(vm1.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.10.0.2']);
    assert.equal(r.code, 0, 'the overlay works without the cluster');
    await lab.restartCluster(port);
    for (const h of lab.hosts) await lab.until(async () => (await lab.call('GET', `/hosts/${h.id}`)).json.alive === true, `${h.name} alive again`, 30_000);
  });

  it('detaches a port whose interface vanishes', async () => {
    const ports = (await lab.call('GET', '/ports')).json as { id: string; interfaceName: string; active: boolean }[];
    const p = ports.find((x) => x.interfaceName === vm2.ifname)!;
    await nsExec(lab.hosts[1]!.ns, ['ip', 'link', 'del', vm2.ifname]);
    await lab.until(async () => (await lab.call('GET', `/ports/${p.id}`)).json.active === false, 'port inactive once its interface is gone');
  });
});
