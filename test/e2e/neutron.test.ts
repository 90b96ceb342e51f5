/**
 * Neutron objects alone (through the Neutron API, as the openstack CLI would send them) give VMs
 * in network namespaces a DHCP lease, routing to another subnet, a floating IP reached from
 * outside, and a security group that blocks then allows SSH. The only non-Neutron steps are the
 * operator's: agents register their hosts and join a tunnel zone.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Lab, metrics, nsExec, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';

const ECHO_SERVER = (port: number) => `require('net').createServer((s) => s.pipe(s)).listen(${port})`;

describe('a tenant built from Neutron objects only', { timeout: 300_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let vmA: LabVm;
  let vmB: LabVm;
  let outside: LabVm;
  const ids: Record<string, string> = {};
  let fip = '';
  const bg: (() => void)[] = [];

  // Neutron bodies of every resource; typing each would restate the API in the test.
  async function neutron(method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetch(`http://127.0.0.1:${lab.cluster.neutronPort}/v2.0/${path}`, {
      method,
      headers: { 'x-auth-token': 'any', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
  const create = async (path: string, key: string, body: Record<string, unknown>) => (await neutron('POST', path, { [key]: body }))[key];
  /** A Neutron port bound (binding:host_id + profile) to the VM's interface; waits until the agent has it. */
  async function vmPort(name: string, net: string, host: LabHost, vm: LabVm, extra: Record<string, unknown> = {}): Promise<any> {
    const p = await create('ports', 'port', {
      name, network_id: net, mac_address: vm.mac, device_owner: 'compute:nova', device_id: name,
      'binding:host_id': host.name, 'binding:profile': { interface_name: vm.ifname }, ...extra,
    });
    await lab.until(async () => (await neutron('GET', `ports/${p.id}`)).port.status === 'ACTIVE', `port ${name} ACTIVE`);
    return p;
  }
  const ping = (vm: LabVm, dst: string, count = 3) => nsExec(vm.ns, ['ping', '-c', String(count), '-i', '0.2', '-W', '2', dst]);
  const ssh = (vm: LabVm, dst: string) => nsExec(vm.ns, ['nc', '-z', '-w', '2', dst, '22']);
  const logs = () => lab.hosts.map((h) => `${h.name}: ${h.log.join('')}`).join('\n');

  before(async () => {
    lab = await Lab.create();
    h1 = await lab.addHost('host1');
    h2 = await lab.addHost('host2');
    await tunnelZone(lab);
    vmA = await lab.addVm(h1, { mac: 'fa:16:3e:00:00:0a' });
    vmB = await lab.addVm(h2, { mac: 'fa:16:3e:00:00:0b', cidr: '10.40.0.20/24', gateway: '10.40.0.1' });
    // The provider's router on the external network.
    outside = await lab.addVm(h2, { mac: 'fa:16:3e:00:00:fe', cidr: '172.20.0.254/24' });

    ids.net1 = (await create('networks', 'network', { name: 'net1' })).id;
    ids.sub1 = (await create('subnets', 'subnet', { network_id: ids.net1, cidr: '10.30.0.0/24', ip_version: 4, dns_nameservers: ['10.30.0.53'] })).id;
    ids.net2 = (await create('networks', 'network', { name: 'net2' })).id;
    ids.sub2 = (await create('subnets', 'subnet', { network_id: ids.net2, cidr: '10.40.0.0/24', ip_version: 4 })).id;
    ids.ext = (await create('networks', 'network', { name: 'ext', 'router:external': true })).id;
    await create('subnets', 'subnet', { network_id: ids.ext, cidr: '172.20.0.0/24', ip_version: 4, gateway_ip: '172.20.0.254', enable_dhcp: false });
    ids.router = (await create('routers', 'router', { name: 'r1', external_gateway_info: { network_id: ids.ext } })).id;
    await neutron('PUT', `routers/${ids.router}/add_router_interface`, { subnet_id: ids.sub1 });
    await neutron('PUT', `routers/${ids.router}/add_router_interface`, { subnet_id: ids.sub2 });
    // vmA's group lets nothing in at first; vmB's lets in ping.
    ids.sgA = (await create('security-groups', 'security_group', { name: 'web' })).id;
    ids.sgB = (await create('security-groups', 'security_group', { name: 'pingable' })).id;
    await create('security-group-rules', 'security_group_rule', { security_group_id: ids.sgB, direction: 'ingress', protocol: 'icmp' });
    ids.portA = (await vmPort('vmA', ids.net1, h1, vmA, { security_groups: [ids.sgA] })).id;
    ids.portB = (await vmPort('vmB', ids.net2, h2, vmB, { security_groups: [ids.sgB], fixed_ips: [{ ip_address: '10.40.0.20' }] })).id;
    await vmPort('outside', ids.ext, h2, outside, { port_security_enabled: false, fixed_ips: [{ ip_address: '172.20.0.254' }] });
    // The floating IP is on the external subnet: the external bridge answers ARP for it.
    fip = (await create('floatingips', 'floatingip', { floating_network_id: ids.ext, port_id: ids.portA })).floating_ip_address;
  });
  after(async () => {
    for (const kill of bg) kill();
    await lab?.destroy();
  });

  it('gives the VM the address Neutron allocated, by DHCP from the agent', async () => {
    const port = (await neutron('GET', `ports/${ids.portA}`)).port;
    const script = join(lab.dir, 'dhclient-script');
    writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; ip route add default via "$new_routers"; echo "$new_ip_address $new_routers $new_domain_name_servers" > ${lab.dir}/lease;; esac\n`, { mode: 0o755 });
    const r = await nsExec(vmA.ns, ['dhclient', '-1', '-sf', script, '-lf', join(lab.dir, 'a.leases'), '-pf', join(lab.dir, 'a.pid'), 'eth0'], 30_000);
    assert.equal(r.code, 0, r.stderr + logs());
    bg.push(() => void nsExec(vmA.ns, ['dhclient', '-x', '-pf', join(lab.dir, 'a.pid')]));
    assert.deepEqual(readFileSync(join(lab.dir, 'lease'), 'utf8').trim().split(' '), [port.fixed_ips[0].ip_address, '10.30.0.1', '10.30.0.53']);
  });

  it('routes to the other subnet, on the other host', async () => {
    const r = await ping(vmA, '10.40.0.20');
    assert.equal(r.code, 0, r.stdout + logs() + JSON.stringify([await metrics(lab, h1), await metrics(lab, h2)]));
  });

  it('SNATs out of the gateway and lets the replies back in', async () => {
    const r = await ping(vmB, '172.20.0.254');
    assert.equal(r.code, 0, r.stdout + logs());
  });

  it('reaches the floating IP from outside once the group allows it', async () => {
    assert.notEqual((await ping(outside, fip, 2)).code, 0, 'the group lets no ping in yet');
    await create('security-group-rules', 'security_group_rule', { security_group_id: ids.sgA, direction: 'ingress', protocol: 'icmp' });
    await lab.until(async () => (await ping(outside, fip, 1)).code === 0, 'ping to the floating IP', 10_000);
  });

  it('blocks SSH until a rule allows it', async () => {
    const a = (await neutron('GET', `ports/${ids.portA}`)).port.fixed_ips[0].ip_address;
    void nsExec(vmA.ns, ['node', '-e', ECHO_SERVER(22)], 60_000);
    bg.push(() => void nsExec(vmA.ns, ['pkill', '-f', 'listen(22)']));
    await new Promise((r) => setTimeout(r, 500));
    assert.notEqual((await ssh(vmB, a)).code, 0, 'SSH from the other subnet is dropped');
    assert.notEqual((await ssh(outside, fip)).code, 0, 'and through the floating IP');
    const rule = await create('security-group-rules', 'security_group_rule', { security_group_id: ids.sgA, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
    await lab.until(async () => (await ssh(vmB, a)).code === 0, 'SSH allowed', 10_000);
    assert.equal((await ssh(outside, fip)).code, 0, 'through the floating IP too');
    await neutron('DELETE', `security-group-rules/${rule.id}`);
    await lab.until(async () => (await ssh(vmB, a)).code !== 0, 'SSH dropped again', 10_000);
  });
});
