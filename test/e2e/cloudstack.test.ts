/**
 * CloudStack's MidoNet plugin against the cluster's 2012 API (/midolmanj-mgmt): the unmodified
 * midonet-client 12.12.2 it ships, built here with javac, driven by test/cloudstack/PluginDriver.java
 * through MidoNetElement's calls for one isolated network: implement, source NAT, DHCP entries,
 * VM ports plugged as its VIF driver does, static NAT, a firewall rule, a port forward, revoke,
 * release, destroy. Checked through the v5 API and with traffic between two agents' VMs and an
 * outside namespace.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildJavaClient, runJava } from '../helpers/java-client.ts';
import { bind, Lab, nsExec, sh, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';

const DRIVER = fileURLToPath(new URL('../cloudstack/PluginDriver.java', import.meta.url));
const ACCOUNT = '6f2c1a52-8a4e-4b44-9d1e-7d8f6f0c5a10';
const NETWORK = '204';
const NET = { subnet: '10.1.1.0', len: '24', gateway: '10.1.1.1', dns: '10.1.1.53' };
const SNAT_IP = '198.51.100.20';
const STATIC_IP = '198.51.100.21';
const PF_IP = '198.51.100.22';
const ECHO = (port: number) => `require('net').createServer((s) => s.pipe(s)).listen(${port})`;

describe('CloudStack (MidoNet plugin, midonet-client 12.12.2) drives the cluster', { timeout: 400_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let outside: LabVm;
  const vms: { vm: LabVm; host: LabHost; nic: string; ip: string; port?: string }[] = [];
  let classpath: string;
  let provider: string;
  const bg: (() => void)[] = [];
  const plugin = (op: string, ...args: string[]) => runJava(classpath, 'PluginDriver', [lab.api.replace(/midonet-api$/, 'midolmanj-mgmt'), provider, ACCOUNT, NETWORK, op, ...args]);
  const v5 = async (path: string) => (await lab.call('GET', path)).json;

  before(async () => {
    classpath = await buildJavaClient([DRIVER]);
    lab = await Lab.create();
    h1 = await lab.addHost('kvm1');
    h2 = await lab.addHost('kvm2');
    await tunnelZone(lab);
    // The operator's provider router (midonet.providerrouter.id) with its uplink to the outside,
    // which routes the public range to it.
    outside = await lab.addVm(h1, { mac: '02:00:c0:00:02:01', cidr: '192.0.2.1/24' });
    await nsExec(outside.ns, ['ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.2']);
    provider = await lab.create('/routers', { name: 'provider', tenantId: 'admin' });
    const uplink = await lab.create(`/routers/${provider}/ports`, { type: 'Router', portAddress: '192.0.2.2', networkAddress: '192.0.2.0', networkLength: 24 });
    await lab.create(`/routers/${provider}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '192.0.2.0', dstNetworkLength: 24, nextHopPort: uplink, weight: 100 });
    await lab.create(`/routers/${provider}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '0.0.0.0', dstNetworkLength: 0, nextHopPort: uplink, nextHopGateway: '192.0.2.1', weight: 100 });
    await bind(lab, uplink, h1, outside);
    for (const [host, ip, mac] of [[h1, '10.1.1.10', '02:00:0a:01:01:0a'], [h2, '10.1.1.11', '02:00:0a:01:01:0b']] as const) {
      vms.push({ vm: await lab.addVm(host, { mac }), host, nic: randomUUID(), ip });
    }
  });
  after(async () => {
    for (const kill of bg) kill();
    await lab?.destroy();
  });

  it('implements the network: bridge, router with its four chains, linked, routed', async () => {
    await plugin('implement', NET.subnet, NET.len, NET.gateway);
    const [bridge] = (await v5(`/bridges?tenant_id=${ACCOUNT}`)) as { id: string; name: string }[];
    assert.equal(bridge?.name, NETWORK);
    const [router] = (await v5(`/routers?tenant_id=${ACCOUNT}`)) as { id: string; name: string; inboundFilterId: string; outboundFilterId: string }[];
    assert.equal(router?.name, NETWORK);
    const chains = ((await v5(`/chains?tenant_id=${ACCOUNT}`)) as { name: string }[]).map((c) => c.name).sort();
    assert.deepEqual(chains, ['post-routing', 'pre-filter', 'pre-nat', 'pre-routing'].map((c) => `${NETWORK}-tenantrouter-${c}`));
    const routes = (await v5(`/routers/${router!.id}/routes`)) as { dstNetworkAddr: string; dstNetworkLength: number }[];
    assert.ok(routes.some((r) => r.dstNetworkAddr === NET.subnet && r.dstNetworkLength === 24));
  });

  it('sets up source NAT (tagged, so a second call adds nothing) and the DHCP entries', async () => {
    await plugin('source-nat', SNAT_IP);
    await plugin('source-nat', SNAT_IP);
    const [router] = (await v5(`/routers?tenant_id=${ACCOUNT}`)) as { outboundFilterId: string }[];
    const post = (await v5(`/chains/${router!.outboundFilterId}/rules`)) as { type: string }[];
    assert.deepEqual(post.map((r) => r.type), ['snat', 'rev_dnat'], 'the reverse DNAT rule appended (position 0)');
    for (const v of vms) await plugin('dhcp', NET.subnet, NET.len, NET.gateway, NET.dns, v.ip, v.vm.mac, `vm-${v.ip}`);
    const [bridge] = (await v5(`/bridges?tenant_id=${ACCOUNT}`)) as { id: string }[];
    const res = await fetch(`${lab.api}/bridges/${bridge!.id}/dhcp`, { headers: { accept: 'application/vnd.org.midonet.collection.DhcpSubnet-v2+json' } });
    const [subnet] = (await res.json()) as { dnsServerAddrs: string[]; defaultGateway: string }[];
    assert.deepEqual([subnet!.defaultGateway, subnet!.dnsServerAddrs], [NET.gateway, [NET.dns]]);
  });

  it('plugs the VMs as the VIF driver does, and they take their leases by DHCP', async () => {
    for (const v of vms) {
      v.port = (await plugin('plug', v.nic, v.host.id, v.vm.ifname)).trim().split('\n')[0];
      await lab.until(async () => (await lab.call('GET', `/ports/${v.port}`)).json.active === true, `port of ${v.ip} active`);
      assert.equal((await v5(`/ports/${v.port}`)).vifId, v.nic);
      const script = join(lab.dir, `cs-${v.ip}-script`);
      writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; ip route add default via "$new_routers"; echo "$new_ip_address $new_routers $new_domain_name_servers" > ${script}.lease;; esac\n`, { mode: 0o755 });
      const r = await nsExec(v.vm.ns, ['dhclient', '-1', '-sf', script, '-lf', `${script}.leases`, '-pf', `${script}.pid`, 'eth0'], 30_000);
      assert.equal(r.code, 0, r.stderr);
      bg.push(() => void nsExec(v.vm.ns, ['dhclient', '-x', '-pf', `${script}.pid`]));
      assert.deepEqual(readFileSync(`${script}.lease`, 'utf8').trim().split(' '), [v.ip, NET.gateway, NET.dns]);
    }
  });

  it('lets the VMs reach each other across hosts, and the outside through source NAT', async () => {
    const [a, b] = vms;
    assert.equal((await nsExec(a!.vm.ns, ['ping', '-c', '2', '-W', '2', b!.ip])).code, 0);
    // The outside knows only the public range: a reply proves the source NAT.
    await lab.until(async () => (await nsExec(b!.vm.ns, ['ping', '-c', '1', '-W', '1', '192.0.2.1'])).code === 0, 'ping the outside', 15_000);
  });

  it('reaches a VM from the outside through static NAT once a firewall rule lets it; keeps a port forward\'s flat port range', async () => {
    const [a, b] = vms;
    void nsExec(a!.vm.ns, ['node', '-e', ECHO(22)], 120_000);
    bg.push(() => void sh('pkill', ['-f', 'listen\\(22\\)']));
    await plugin('static-nat', STATIC_IP, a!.ip);
    assert.notEqual((await nsExec(outside.ns, ['nc', '-z', '-w', '2', STATIC_IP, '22'])).code, 0, 'dropped before a firewall rule lets it in');
    await plugin('firewall', STATIC_IP, '0.0.0.0/0', '22');
    await lab.until(async () => (await nsExec(outside.ns, ['nc', '-z', '-w', '2', STATIC_IP, '22'])).code === 0, 'TCP 22 through the static NAT', 15_000);
    await plugin('port-forward', PF_IP, '2222', b!.ip, '22');
    const chains = (await v5(`/chains?tenant_id=${ACCOUNT}`)) as { id: string; name: string }[];
    const rules = async (suffix: string) => (await v5(`/chains/${chains.find((c) => c.name.endsWith(suffix))!.id}/rules`)) as { type: string; nwDstAddress: string; nwProto: number | null; tpDst: { start: number; end: number } | null; natTargets: { portFrom: number }[] | null }[];
    const pf = (await rules('pre-nat')).find((r) => r.nwDstAddress === PF_IP);
    assert.deepEqual([pf?.type, pf?.nwProto, pf?.tpDst, pf?.natTargets?.[0]?.portFrom], ['dnat', 6, { start: 2222, end: 2222 }, 22], 'the flat 2012 port range kept as a condition');
    const filter = await rules('pre-filter');
    assert.equal(filter.at(-1)?.type, 'drop', "the port forward's default drop appended (position 0)");
    assert.equal(filter.at(-1)?.nwDstAddress, PF_IP);
    const routes = (await v5(`/routers/${provider}/routes`)) as { dstNetworkAddr: string }[];
    for (const ip of [SNAT_IP, STATIC_IP, PF_IP]) assert.ok(routes.some((r) => r.dstNetworkAddr === ip), `provider route to ${ip}`);
  });

  it('revokes the static NAT, releases a NIC and destroys the network, leaving nothing of it', async () => {
    const [a, b] = vms;
    await plugin('revoke-static-nat', STATIC_IP, a!.ip);
    await lab.until(async () => (await nsExec(outside.ns, ['nc', '-z', '-w', '1', STATIC_IP, '22'])).code !== 0, 'static NAT gone', 10_000);
    await plugin('release', b!.nic, b!.ip);
    assert.equal((await lab.call('GET', `/ports/${b!.port}`)).status, 404);
    await plugin('destroy');
    assert.deepEqual(await v5(`/bridges?tenant_id=${ACCOUNT}`), []);
    assert.deepEqual(await v5(`/routers?tenant_id=${ACCOUNT}`), []);
    assert.deepEqual(await v5(`/chains?tenant_id=${ACCOUNT}`), []);
    // The provider router keeps its uplink; its downlink to the tenant router went with the network.
    const ports = (await v5(`/routers/${provider}/ports`)) as { portAddress: string }[];
    assert.deepEqual(ports.map((p) => p.portAddress), ['192.0.2.2']);
  });
});
