/**
 * The real `openstack` CLI (Debian's python3-openstackclient) against our Neutron API, with the
 * resulting MidoNet topology read back through the MidoNet API, and the NSDB read directly once
 * everything is deleted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/nsdb/open.ts';
import { ClusterProcess } from '../helpers/cluster.ts';
import { everything } from '../helpers/neutron.ts';
import { midonetGetter, openstackCli } from '../helpers/openstack.ts';


describe('openstack CLI against the Neutron API', { timeout: 300_000 }, () => {
  let cluster: ClusterProcess;
  let dir: string;
  /** Runs `openstack ...` (recipe A of the reference: auth type none, the API root as endpoint). */
  const os = openstackCli(() => ({ OS_AUTH_TYPE: 'none', OS_ENDPOINT: cluster.neutronUrl, HOME: dir }));
  const osFails = async (...args: string[]): Promise<string> => {
    try {
      await os(...args);
    } catch (err) {
      return (err as { stderr: string }).stderr;
    }
    throw new Error(`openstack ${args.join(' ')} succeeded`);
  };
  const midonet = midonetGetter(() => cluster.url);
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'osc-'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates networks, subnets, routers, ports, floating IPs and security groups', async () => {
    const net = await os('network', 'create', 'tenant-net');
    assert.equal(net.name, 'tenant-net');
    assert.equal(net.status, 'ACTIVE');
    ids.net = net.id;
    const sub = await os('subnet', 'create', '--network', 'tenant-net', '--subnet-range', '10.0.0.0/24', '--dns-nameserver', '192.0.2.53', 'tenant-sub');
    assert.equal(sub.gateway_ip, '10.0.0.1');
    assert.equal(sub.enable_dhcp, true);
    assert.deepEqual(sub.allocation_pools, [{ start: '10.0.0.2', end: '10.0.0.254' }]);
    ids.sub = sub.id;
    ids.ext = (await os('network', 'create', '--external', 'ext-net')).id;
    ids.extSub = (await os('subnet', 'create', '--network', 'ext-net', '--subnet-range', '172.24.4.0/24', '--no-dhcp', 'ext-sub')).id;
    ids.router = (await os('router', 'create', 'tenant-router')).id;
    await os('router', 'add', 'subnet', 'tenant-router', 'tenant-sub');
    await os('router', 'set', '--external-gateway', 'ext-net', 'tenant-router');
    const router = await os('router', 'show', 'tenant-router');
    assert.equal(router.external_gateway_info.network_id, ids.ext);
    assert.equal(router.external_gateway_info.enable_snat, true);
    assert.equal(router.external_gateway_info.external_fixed_ips[0].ip_address, '172.24.4.2');
    const port = await os('port', 'create', '--network', 'tenant-net', 'vm-port');
    assert.equal(port.fixed_ips[0].ip_address, '10.0.0.2');
    assert.match(port.mac_address, /^fa:16:3e:/);
    assert.equal(port.status, 'DOWN');
    ids.port = port.id;
    const fip = await os('floating', 'ip', 'create', 'ext-net');
    assert.equal(fip.floating_ip_address, '172.24.4.3');
    ids.fip = fip.id;
    await os('floating', 'ip', 'set', '--port', 'vm-port', ids.fip);
    const assoc = await os('floating', 'ip', 'show', ids.fip);
    assert.equal(assoc.fixed_ip_address, '10.0.0.2');
    assert.equal(assoc.router_id, ids.router);
    ids.sg = (await os('security', 'group', 'create', 'ssh')).id;
    const rule = await os('security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'ssh');
    assert.equal(rule.port_range_min, 22);
    ids.rule = rule.id;
    await os('port', 'set', '--security-group', 'ssh', 'vm-port');
    const rules = await os('security', 'group', 'rule', 'list', 'ssh');
    assert.equal(rules.length, 3, 'two default egress rules and the SSH rule');
    await os('network', 'set', '--name', 'tenant-net-renamed', '--tag', 'blue', 'tenant-net');
    assert.deepEqual((await os('network', 'list', '--tags', 'blue')).map((n: { Name: string }) => n.Name), ['tenant-net-renamed']);
    assert.deepEqual((await os('network', 'list', '--not-tags', 'blue')).map((n: { Name: string }) => n.Name), ['ext-net']);
    const nets = await os('network', 'list');
    assert.deepEqual(nets.map((n: { Name: string }) => n.Name).sort(), ['ext-net', 'tenant-net-renamed']);
    const subnets = await os('subnet', 'list', '--network', 'tenant-net-renamed');
    assert.equal(subnets.length, 1);
  });

  it('builds the MidoNet topology those objects stand for', async () => {
    const bridge = await midonet(`/bridges/${ids.net}`);
    assert.equal(bridge.name, 'tenant-net-renamed');
    const dhcp = await midonet(`/bridges/${ids.net}/dhcp/10.0.0.0_24`);
    assert.equal(dhcp.defaultGateway, '10.0.0.1');
    assert.deepEqual(dhcp.dnsServerAddrs, ['192.0.2.53']);
    const hosts = await midonet(`/bridges/${ids.net}/dhcp/10.0.0.0_24/hosts`);
    const port = await os('port', 'show', 'vm-port');
    assert.deepEqual(hosts.map((h: { ipAddr: string; macAddr: string }) => [h.ipAddr, h.macAddr]), [['10.0.0.2', port.mac_address]]);

    const router = await midonet(`/routers/${ids.router}`);
    assert.equal(router.name, 'tenant-router');
    const rports = await midonet(`/routers/${ids.router}/ports`);
    const inside = rports.find((p: { portAddress: string }) => p.portAddress === '10.0.0.1');
    const gw = rports.find((p: { portAddress: string }) => p.portAddress === '172.24.4.2');
    assert.ok(inside && gw, 'an interface port and a gateway port');
    const insidePeer = await midonet(`/ports/${inside.peerId}`);
    assert.equal(insidePeer.deviceId, ids.net, 'the interface is linked to a port of the tenant bridge');
    assert.equal((await midonet(`/ports/${gw.peerId}`)).deviceId, ids.ext, 'the gateway is linked to the external bridge');
    const routes = await midonet(`/routers/${ids.router}/routes`);
    const has = (dst: string, len: number, via: string, gateway: string | null = null) =>
      routes.some((r: any) => r.dstNetworkAddr === dst && r.dstNetworkLength === len && r.nextHopPort === via && r.nextHopGateway === gateway);
    assert.ok(has('10.0.0.0', 24, inside.id), 'route to the tenant subnet');
    assert.ok(has('0.0.0.0', 0, gw.id, '172.24.4.1'), 'default route via the external subnet gateway');
    assert.ok(has('172.24.4.2', 32, gw.id), 'local route of the gateway address');

    const pre = await midonet(`/chains/${router.inboundFilterId}/rules`);
    assert.ok(pre.some((r: any) => r.type === 'dnat' && r.nwDstAddress === '172.24.4.3' && r.natTargets[0].addressFrom === '10.0.0.2'), 'floating IP DNAT');
    assert.ok(pre.some((r: any) => r.type === 'rev_snat' && r.nwDstAddress === '172.24.4.2'), 'reverse SNAT for the gateway');
    const post = await midonet(`/chains/${router.outboundFilterId}/rules`);
    assert.equal(post[0].type, 'jump', 'floating IP SNAT is tried first');
    assert.ok(post.some((r: any) => r.type === 'snat' && r.natTargets[0].addressFrom === '172.24.4.2' && r.outPorts[0] === gw.id), 'gateway SNAT');
    const fipSnat = await midonet(`/chains/${post[0].jumpChainId}/rules`);
    assert.equal(fipSnat[0].natTargets[0].addressFrom, '172.24.4.3');
    const arp = await midonet(`/bridges/${ids.ext}/arp_table`);
    assert.ok(arp.some((e: any) => e.ip === '172.24.4.3' && e.mac === gw.portMac), 'the floating IP answers ARP with the gateway MAC');

    const vm = await midonet(`/ports/${ids.port}`);
    assert.ok(vm.inboundFilterId && vm.outboundFilterId, 'the VM port is filtered');
    const outbound = await midonet(`/chains/${vm.outboundFilterId}/rules`);
    assert.equal(outbound[0].matchReturnFlow, true);
    assert.equal(outbound.at(-1).type, 'drop');
    const jumps = outbound.filter((r: any) => r.type === 'jump').map((r: any) => r.jumpChainId);
    assert.equal(jumps.length, 2, 'to the default group and to ssh');
    const chains = await Promise.all(jumps.map((id: string) => midonet(`/chains/${id}`)));
    const ssh = chains.find((c: any) => c.name === `OS_SG_${ids.sg}_INGRESS`);
    const sgRules = await midonet(`/chains/${ssh.id}/rules`);
    assert.ok(sgRules.some((r: any) => r.type === 'accept' && r.nwProto === 6 && r.tpDst?.start === 22 && r.fragmentPolicy === 'header'), 'SSH for first fragments');
    assert.ok(sgRules.some((r: any) => r.type === 'accept' && r.nwProto === 6 && r.tpDst === null && r.fragmentPolicy === 'nonheader'), 'and its twin for the later ones');
    const inbound = await midonet(`/chains/${vm.inboundFilterId}/rules`);
    const antiSpoof = await midonet(`/chains/${inbound[0].jumpChainId}/rules`);
    assert.ok(antiSpoof.some((r: any) => r.type === 'return' && r.nwSrcAddress === '10.0.0.2' && r.dlSrc === port.mac_address), 'the port\'s own address and MAC pass');
    assert.equal(antiSpoof.at(-1).type, 'drop');
    const group = await midonet(`/ip_addr_groups/${ids.sg}/ip_addrs`);
    assert.deepEqual(group.map((a: { addr: string }) => a.addr), ['10.0.0.2']);
  });

  it('turns the seeds\' edge-router steps into a bound exterior router port', async () => {
    const host = await fetch(`${cluster.url}/hosts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gateway1' }) });
    const hostId = host.headers.get('location')!.split('/').pop()!;
    ids.edge = (await os('router', 'create', 'edge-router')).id;
    await os('router', 'add', 'subnet', 'edge-router', 'ext-sub');
    ids.uplink = (await os('network', 'create', '--provider-network-type', 'uplink', 'uplink-net')).id;
    await os('subnet', 'create', '--network', 'uplink-net', '--subnet-range', '198.51.100.0/30', '--no-dhcp', 'uplink-sub');
    const up = await os('port', 'create', '--network', 'uplink-net', '--host', 'gateway1', '--binding-profile', 'interface_name=eth1',
      '--fixed-ip', 'subnet=uplink-sub,ip-address=198.51.100.2', 'uplink-port');
    assert.equal(up['binding_host_id'] ?? up['binding:host_id'], 'gateway1');
    await os('router', 'add', 'port', 'edge-router', 'uplink-port');
    const rports = await midonet(`/routers/${ids.edge}/ports`);
    const uplink = rports.find((p: { portAddress: string }) => p.portAddress === '198.51.100.2');
    assert.ok(uplink, 'the uplink became a router port');
    assert.equal(uplink.hostId, hostId);
    assert.equal(uplink.interfaceName, 'eth1');
    assert.equal(uplink.peerId, null, 'exterior: no bridge behind it');
    const groups = await midonet(`/ports/${uplink.id}/port_groups`);
    const group = await midonet(`/port_groups/${groups[0].portGroupId}`);
    assert.equal(group.stateful, true, 'uplinks share flow state');
    assert.ok(rports.some((p: { portAddress: string }) => p.portAddress === '172.24.4.1'), 'the edge router sits on the external network');
    assert.equal((await midonet(`/bridges`)).some((b: { id: string }) => b.id === ids.uplink), false, 'no bridge for an uplink network');
  });

  it('reports errors as Neutron does', async () => {
    assert.match(await osFails('network', 'delete', 'tenant-net-renamed'), /ConflictException: 409.*ports still in use/);
    assert.match(await osFails('subnet', 'create', '--network', 'tenant-net-renamed', '--subnet-range', '10.0.0.128/25', 'overlap'), /BadRequestException: 400.*overlaps with another subnet/);
    assert.match(await osFails('port', 'create', '--network', 'tenant-net-renamed', '--fixed-ip', 'ip-address=10.9.9.9', 'outside'), /BadRequestException: 400.*not a valid IP/);
    assert.match(await osFails('port', 'create', '--network', 'tenant-net-renamed', '--fixed-ip', 'ip-address=10.0.0.2', 'taken'), /ConflictException: 409.*already allocated/);
    assert.match(await osFails('security', 'group', 'delete', 'ssh'), /in use/);
  });

  it('deletes everything and leaves no MidoNet object behind', async () => {
    await os('floating', 'ip', 'delete', ids.fip);
    // Removing an interface by port deletes the port, as in Neutron.
    await os('router', 'remove', 'port', 'edge-router', 'uplink-port');
    await os('router', 'remove', 'subnet', 'edge-router', 'ext-sub');
    await os('router', 'delete', 'edge-router');
    await os('router', 'unset', '--external-gateway', 'tenant-router');
    await os('router', 'remove', 'subnet', 'tenant-router', 'tenant-sub');
    await os('router', 'delete', 'tenant-router');
    await os('port', 'delete', 'vm-port');
    await os('security', 'group', 'delete', 'ssh');
    await os('security', 'group', 'delete', 'default');
    await os('network', 'delete', 'uplink-net', 'ext-net', 'tenant-net-renamed');
    assert.deepEqual(await os('network', 'list'), []);
    await cluster.stop();
    const store = await openStore({ kind: 'embedded', dataDir: join(dir, 'nsdb') });
    try {
      const left = await everything(store);
      delete left.Host;
      assert.deepEqual(left, {});
    } finally {
      await store.close();
    }
  });
});
