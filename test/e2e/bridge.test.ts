import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lab, nsExec, plug, tunnelZone, type LabVm } from '../helpers/lab.ts';

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
  });
  after(async () => lab?.destroy());

  it('pings across hosts through the VXLAN overlay', async () => {
    const r = await nsExec(vm1.ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.10.0.2']);
    assert.equal(r.code, 0, r.stdout + r.stderr + lab.hosts.map((h) => h.log.join('')).join('\n'));
  });
});
