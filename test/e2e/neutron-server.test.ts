/**
 * VMs on two agents, plugged into ports that neutron-server (with the patched networking-midonet,
 * integrations/openstack/env.sh) made at the openstack CLI's request: DHCP leases, traffic across
 * hosts, source NAT out of the router's gateway, a floating IP reached from outside.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/cluster.ts';
import { Lab, nsExec, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';
import { neutronServerDown, neutronServerUp, openstackCli } from '../helpers/openstack.ts';

describe('VMs on ports neutron-server made', { timeout: 300_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let vmA: LabVm;
  let vmB: LabVm;
  let outside: LabVm;
  let endpoint = '';
  const ids: Record<string, string> = {};
  const leases: Record<string, string> = {};

  const os = openstackCli(() => ({ OS_AUTH_TYPE: 'none', OS_ENDPOINT: endpoint, HOME: lab.dir }));
  /** A VM port as Nova's VIF plugging asks for it: bound to the host, the profile naming the tap. */
  async function vmPort(name: string, net: string, host: LabHost, vm: LabVm, extra: string[] = []): Promise<string> {
    const p = await os('port', 'create', '--network', net, '--mac-address', vm.mac, '--device-owner', 'compute:nova', '--host', host.name,
      '--binding-profile', `interface_name=${vm.ifname}`, ...extra, name);
    await lab.until(async () => (await lab.call('GET', `/ports/${p.id}`)).json.active === true, `port ${name} active`);
    return p.id;
  }
  async function dhcp(vm: LabVm, name: string): Promise<string> {
    const script = join(lab.dir, `dhclient-${name}`);
    writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; ip route add default via "$new_routers"; echo "$new_ip_address $new_routers" > ${lab.dir}/lease-${name};; esac\n`, { mode: 0o755 });
    const r = await nsExec(vm.ns, ['dhclient', '-1', '-sf', script, '-lf', join(lab.dir, `${name}.leases`), '-pf', join(lab.dir, `${name}.pid`), 'eth0'], 30_000);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(join(lab.dir, `lease-${name}`), 'utf8').trim();
  }
  const ping = (vm: LabVm, dst: string, count = 3) => nsExec(vm.ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', dst]);

  before(async () => {
    lab = await Lab.create();
    h1 = await lab.addHost('os-host1');
    h2 = await lab.addHost('os-host2');
    await tunnelZone(lab);
    const port = await freePort();
    await neutronServerUp(join(lab.dir, 'openstack'), lab.api, port);
    endpoint = `http://127.0.0.1:${port}`;
    vmA = await lab.addVm(h1, { mac: 'fa:16:3e:42:00:0a' });
    vmB = await lab.addVm(h2, { mac: 'fa:16:3e:42:00:0b' });
    outside = await lab.addVm(h2, { mac: 'fa:16:3e:42:00:fe', cidr: '172.22.0.254/24' });

    await os('network', 'create', 'app-net');
    await os('subnet', 'create', '--network', 'app-net', '--subnet-range', '10.66.0.0/24', 'app-sub');
    await os('network', 'create', '--external', 'public');
    await os('subnet', 'create', '--network', 'public', '--subnet-range', '172.22.0.0/24', '--gateway', '172.22.0.254', '--no-dhcp', 'public-sub');
    await os('router', 'create', 'edge');
    await os('router', 'set', '--external-gateway', 'public', 'edge');
    await os('router', 'add', 'subnet', 'edge', 'app-sub');
    // The project's default group lets its members in; ping from anywhere too.
    await os('security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default');
    ids.a = await vmPort('vmA', 'app-net', h1, vmA);
    ids.b = await vmPort('vmB', 'app-net', h2, vmB);
    await vmPort('outside', 'public', h2, outside, ['--fixed-ip', 'subnet=public-sub,ip-address=172.22.0.254', '--disable-port-security']);
  });
  after(async () => {
    for (const vm of ['a', 'b']) await nsExec((vm === 'a' ? vmA : vmB)?.ns ?? '', ['dhclient', '-x', '-pf', join(lab.dir, `${vm}.pid`)]).catch(() => undefined);
    await neutronServerDown(join(lab.dir, 'openstack')).catch(() => undefined);
    await lab?.destroy();
  });

  it('gives each VM the address neutron-server allocated, by DHCP from its agent', async () => {
    for (const [key, vm] of [['a', vmA], ['b', vmB]] as const) {
      const port = await os('port', 'show', ids[key]!);
      leases[key] = await dhcp(vm, key);
      assert.equal(leases[key], `${port.fixed_ips[0].ip_address} 10.66.0.1`);
    }
  });

  it('carries traffic between the VMs across hosts', async () => {
    const r = await ping(vmA, leases.b!.split(' ')[0]!);
    assert.equal(r.code, 0, r.stdout);
  });

  it("source-NATs a VM out of the router's gateway", async () => {
    const r = await ping(vmA, '172.22.0.254');
    assert.equal(r.code, 0, r.stdout);
  });

  it('reaches a VM from outside through its floating IP', async () => {
    const fip = (await os('floating', 'ip', 'create', '--port', ids.b!, 'public')).floating_ip_address;
    await lab.until(async () => (await ping(outside, fip, 1)).code === 0, `ping to floating IP ${fip}`, 15_000);
    await os('floating', 'ip', 'unset', '--port', fip);
    await lab.until(async () => (await ping(outside, fip, 1)).code !== 0, 'the floating IP unset', 15_000);
  });
});
