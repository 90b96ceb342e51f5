import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lab, metrics, nsExec, plug, tunnelZone, type LabVm } from '../helpers/lab.ts';

describe('a GRE tunnel zone', { timeout: 120_000 }, () => {
  let lab: Lab;
  let vm1: LabVm;
  before(async () => {
    lab = await Lab.create();
    const h1 = await lab.addHost('host1');
    const h2 = await lab.addHost('host2');
    await tunnelZone(lab, 'gre');
    const b = await lab.create('/bridges', { name: 'net' });
    vm1 = await lab.addVm(h1, { mac: '02:00:0a:1e:00:01', cidr: '10.30.0.1/24' });
    const vm2 = await lab.addVm(h2, { mac: '02:00:0a:1e:00:02', cidr: '10.30.0.2/24' });
    await plug(lab, b, h1, vm1);
    await plug(lab, b, h2, vm2);
  });
  after(async () => lab?.destroy());

  it('carries traffic between hosts in GRE with the port tunnel key', async () => {
    const r = await nsExec(vm1.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.30.0.2']);
    assert.equal(r.code, 0, r.stdout + lab.hosts.map((h) => h.log.join('')).join('\n'));
    const m = await metrics(lab, lab.hosts[1]!);
    assert.ok(m.datapath.tunnelRx >= 3 && m.datapath.tunnelTx >= 3, JSON.stringify(m.datapath));
  });
});
