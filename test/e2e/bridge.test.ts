import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Lab, nsExec, type LabHost, type LabVm } from '../helpers/lab.ts';

/** Binds a new port of `bridge` to the VM's interface on its host and waits until it is active. */
export async function plug(lab: Lab, bridge: string, host: LabHost, vm: LabVm): Promise<string> {
  const port = await lab.create(`/bridges/${bridge}/ports`, { type: 'Bridge' });
  const r = await lab.call('POST', `/hosts/${host.id}/ports`, { portId: port, interfaceName: vm.ifname });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  await lab.until(async () => (await lab.call('GET', `/ports/${port}`)).json.active === true, `port ${port} active`);
  return port;
}

export async function tunnelZone(lab: Lab): Promise<string> {
  const tz = await lab.create('/tunnel_zones', { name: 'tz', type: 'vxlan' });
  for (const h of lab.hosts) {
    const r = await fetch(`${lab.api}/tunnel_zones/${tz}/hosts`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.org.midonet.TunnelZoneHost-v1+json' },
      body: JSON.stringify({ hostId: h.id, ipAddress: h.underlayIp }),
    });
    assert.equal(r.status, 201);
  }
  return tz;
}

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
