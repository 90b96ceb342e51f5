/**
 * Real OpenStack networking in front of the cluster: Debian's neutron-server (Zed) with the
 * vendored networking-midonet (victoria) and our compat patch behind a real Keystone, driven by
 * the real `openstack` CLI with password auth (integrations/openstack/env.sh), checked through the
 * MidoNet API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { KeystoneProcess } from '../helpers/keystone.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';
import { midonetGetter, neutronServerDown, neutronServerUp, openstackCli } from '../helpers/openstack.ts';

describe('neutron-server with networking-midonet against the cluster', { timeout: 300_000 }, () => {
  let cluster: ClusterProcess;
  let keystone: KeystoneProcess;
  let gateway: VirtualAgent;
  let dir: string;
  /** `openstack ...` as an operator runs it: a Keystone password login, neutron-server found in the catalog. */
  const os = openstackCli(() => ({
    OS_AUTH_URL: `${keystone.url}/v3`, OS_USERNAME: 'admin', OS_PASSWORD: 'secret', OS_PROJECT_NAME: 'admin',
    OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', HOME: dir,
  }));
  const midonet = midonetGetter(() => cluster.url);
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'neutron-server-'));
    keystone = await KeystoneProcess.start(join(dir, 'keystone'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb'), '--neutron-port', 'off']);
    // The gateway host the uplink port is bound to (an agent without a datapath).
    gateway = await VirtualAgent.start(cluster.url, dir, 'gw1');
    const port = await freePort();
    await keystone.catalog('network', 'neutron', `http://127.0.0.1:${port}`);
    const stdout = await neutronServerUp(join(dir, 'openstack'), cluster.url, port, { KEYSTONE_URL: `${keystone.url}/v3` });
    assert.match(stdout, /OS_AUTH_URL=/);
    // Keystone's tokens are what neutron-server takes: none is refused.
    assert.equal((await fetch(`http://127.0.0.1:${port}/v2.0/networks`)).status, 401);
  });
  after(async () => {
    await neutronServerDown(join(dir, 'openstack')).catch(() => undefined);
    await gateway?.stop();
    await cluster?.stop();
    keystone?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds a tenant: networks, subnets, a router by subnet and by port, its gateway, a security group', async () => {
    ids.net = (await os('network', 'create', 'tenant-net')).id;
    ids.sub = (await os('subnet', 'create', '--network', 'tenant-net', '--subnet-range', '10.62.0.0/24', 'tenant-sub')).id;
    ids.net2 = (await os('network', 'create', 'db-net')).id;
    ids.sub2 = (await os('subnet', 'create', '--network', 'db-net', '--subnet-range', '10.63.0.0/24', 'db-sub')).id;
    ids.ext = (await os('network', 'create', '--external', 'public')).id;
    ids.extSub = (await os('subnet', 'create', '--network', 'public', '--subnet-range', '203.0.113.0/24', '--no-dhcp', 'public-sub')).id;
    ids.router = (await os('router', 'create', 'edge')).id;
    await os('router', 'add', 'subnet', 'edge', 'tenant-sub');
    ids.ifPort = (await os('port', 'create', '--network', 'db-net', '--fixed-ip', 'subnet=db-sub,ip-address=10.63.0.1', 'edge-db')).id;
    await os('router', 'add', 'port', 'edge', 'edge-db');
    await os('router', 'set', '--external-gateway', 'public', 'edge');
    // MidoNet's uplink network: no bridge, the router port bound to a gateway's interface.
    ids.uplink = (await os('network', 'create', '--provider-network-type', 'uplink', 'uplink-net')).id;
    await os('subnet', 'create', '--network', 'uplink-net', '--subnet-range', '192.0.2.0/30', '--no-dhcp', 'uplink-sub');
    ids.uplinkPort = (await os('port', 'create', '--network', 'uplink-net', '--fixed-ip', 'subnet=uplink-sub,ip-address=192.0.2.1', '--host', 'gw1',
      '--binding-profile', 'interface_name=eth1', 'edge-uplink')).id;
    await os('router', 'add', 'port', 'edge', 'edge-uplink');
    ids.sg = (await os('security', 'group', 'create', 'web')).id;
    ids.rule = (await os('security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'web')).id;
    ids.vm = (await os('port', 'create', '--network', 'tenant-net', '--security-group', 'web', '--host', 'compute1', 'vm1')).id;

    const bridges = await midonet('/bridges');
    assert.deepEqual(bridges.map((b: { name: string }) => b.name).sort(), ['db-net', 'public', 'tenant-net']);
    const ports = await midonet(`/routers/${ids.router}/ports`);
    assert.deepEqual(ports.map((p: { portAddress: string }) => p.portAddress).sort(), ['10.62.0.1', '10.63.0.1', '192.0.2.1', (await os('router', 'show', 'edge')).external_gateway_info.external_fixed_ips[0].ip_address].sort());
    const uplink = ports.find((p: { portAddress: string }) => p.portAddress === '192.0.2.1');
    assert.deepEqual([uplink.hostId, uplink.interfaceName], [gateway.id, 'eth1'], "the uplink router port is bound to the gateway's interface");
    const vm = await midonet(`/ports/${ids.vm}`);
    assert.equal(vm.networkId ?? vm.deviceId, ids.net);
    // The group reached the cluster with its rule (networking-midonet's callbacks, patched for Zed).
    const chains = await midonet('/chains');
    const ingress = chains.find((c: { name: string }) => c.name === `OS_SG_${ids.sg}_INGRESS`);
    assert.ok(ingress, 'the security group has its chain');
    const rules = await midonet(`/chains/${ingress.id}/rules`);
    assert.ok(rules.some((r: { tpDst?: { start: number } }) => r.tpDst?.start === 22), 'and its rule');
  });

  it('sets and unsets a floating IP (the calls Zed dropped without the patch)', async () => {
    const fip = await os('floating', 'ip', 'create', '--port', 'vm1', 'public');
    ids.fip = fip.id;
    const ours = (await midonet(`/neutron/floating_ips/${ids.fip}`)) as { port_id: string; floating_ip_address: string };
    assert.equal(ours.port_id, ids.vm);
    const router = await midonet(`/routers/${ids.router}`);
    const pre = await midonet(`/chains/${router.inboundFilterId}/rules`);
    assert.ok(JSON.stringify(pre).includes(fip.floating_ip_address), 'the router translates the floating IP');
    await os('floating', 'ip', 'unset', '--port', ids.fip);
    assert.equal(((await midonet(`/neutron/floating_ips/${ids.fip}`)) as { port_id: string | null }).port_id, null);
  });

  it('deletes everything as Neutron does, leaving only the project default group in the cluster', async () => {
    await os('floating', 'ip', 'delete', ids.fip!);
    await os('port', 'delete', 'vm1');
    await os('router', 'unset', '--external-gateway', 'edge');
    await os('router', 'remove', 'port', 'edge', 'edge-db');
    await os('router', 'remove', 'port', 'edge', 'edge-uplink');
    await os('router', 'remove', 'subnet', 'edge', 'tenant-sub');
    await os('router', 'delete', 'edge');
    await os('security', 'group', 'delete', 'web');
    await os('subnet', 'delete', 'tenant-sub', 'db-sub', 'public-sub', 'uplink-sub');
    await os('network', 'delete', 'tenant-net', 'db-net', 'public', 'uplink-net');
    assert.deepEqual(await midonet('/bridges'), []);
    assert.deepEqual(await midonet('/routers'), []);
    assert.deepEqual(await midonet('/ports'), []);
    const left = (await midonet('/chains')).map((c: { name: string }) => c.name);
    assert.ok(left.every((n: string) => /^OS_SG_[0-9a-f-]+_(INGRESS|EGRESS)$/.test(n)), left.join(' '));
    const groups = await midonet('/neutron/security_groups');
    assert.deepEqual(groups.map((g: { name: string }) => g.name), ['default']);
  });
});
