/**
 * Eucalyptus VPCMIDO against our cluster: eucanetd's calls replayed as its code makes them
 * (net/midonet-api.c, net/euca-to-mido.c; ../shared/reference/eucanetd-v5-calls.md) for the
 * tunnel zone, the core with one gateway from a network YAML like the seed's, one VPC, one
 * subnet, one security group, one instance interface and its elastic IP; then real traffic: the
 * instance takes its DHCP lease and reaches the outside through the gateway with its elastic IP.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Eucanetd, type MidoObject } from '../helpers/eucanetd.ts';
import { Lab, nsExec, sh, type LabHost, type LabVm } from '../helpers/lab.ts';

/** The network YAML's Mido section, as the seed's Eucalyptus guide writes it (addresses of this lab). */
const MIDO = {
  Gateways: [{ ExternalCidr: '192.0.2.0/24', ExternalIp: '192.0.2.2', ExternalRouterIp: '192.0.2.1' }],
  PublicIps: ['198.51.100.10'],
};
const VPC = { name: 'vpc-1a2b3c4d', cidr: '10.0.0.0/16', rtid: 2 };
const SUBNET = { name: 'subnet-1a2b3c4d', net: '10.0.1.0', len: '24', gw: '10.0.1.1', dot2: '10.0.1.2' };
const SG = 'sg-1a2b3c4d';
const ENI = { name: 'eni-1a2b3c4d', mac: 'd0:0d:1a:2b:3c:4d', ip: '10.0.1.10', pub: MIDO.PublicIps[0]! };
/** eucanetd's internal link network between eucart and the VPC routers. */
const INT = { net: '169.254.0.0', len: '17', rtaddr: '169.254.0.1' };

describe('Eucalyptus VPCMIDO (eucanetd) drives the cluster', { timeout: 300_000 }, () => {
  let lab: Lab;
  let gwHost: LabHost;
  let nodeHost: LabHost;
  let outside: LabVm;
  let instance: LabVm;
  let e: Eucanetd;
  const vnIface = `vn_${ENI.name}`;

  before(async () => {
    lab = await Lab.create();
    gwHost = await lab.addHost('gw1');
    nodeHost = await lab.addHost('node1');
    // The upstream router behind the gateway's external device; it routes the public IPs to the gateway.
    outside = await lab.addVm(gwHost, { mac: '02:00:c0:00:02:01', cidr: '192.0.2.1/24' });
    await nsExec(outside.ns, ['ip', 'route', 'add', '198.51.100.0/24', 'via', MIDO.Gateways[0]!.ExternalIp]);
    // The instance's tap as the node controller names it: vn_<interface id>.
    instance = await lab.addVm(nodeHost, { mac: ENI.mac });
    await sh('ip', ['-n', nodeHost.ns, 'link', 'set', instance.ifname, 'down']);
    await sh('ip', ['-n', nodeHost.ns, 'link', 'set', instance.ifname, 'name', vnIface]);
    await sh('ip', ['-n', nodeHost.ns, 'link', 'set', vnIface, 'up']);
    e = new Eucanetd(lab.api, 'euca_tenant_1');
  });
  after(async () => {
    await lab?.destroy();
  });

  it('connects as eucanetd does: the root (v5.0) and its caches, tenant-filtered', async () => {
    await e.connect();
    for (const [path, type] of [['routers', 'Router-v3'], ['bridges', 'Bridge-v4'], ['chains', 'Chain-v1'], ['ip_addr_groups', 'IpAddrGroup-v1'], ['port_groups', 'PortGroup-v1'], ['tunnel_zones', 'TunnelZone-v1']] as const) {
      assert.deepEqual(await e.list(path, type), []);
    }
  });

  it('makes the tunnel zone (eucanetd -Z), finding each host by its IP', async () => {
    const tz = await e.create([], 'tunnel_zones', 'TunnelZone-v1', { name: 'mido-tz', type: 'gre' }, null);
    for (const h of [gwHost, nodeHost]) {
      const host = await e.hostByIp(h.underlayIp);
      assert.equal(host.id, h.id);
      await e.create([['tunnel_zones', tz.id!]], 'hosts', 'TunnelZoneHost-v1', { ipAddress: h.underlayIp, hostId: h.id }, null);
    }
  });

  let eucart: MidoObject;
  let eucartBrPort: MidoObject;
  let eucabr: MidoObject;
  let metadataIag: MidoObject;

  it('builds the core and the gateway (create_mido_core, create_mido_gw)', async () => {
    // The Eucalyptus version as an address (euca_version_str: four numbers, as MidoNet needs an IP here).
    const ver = await e.create([], 'ip_addr_groups', 'IpAddrGroup-v1', { name: 'euca_version' });
    await e.create([['ip_addr_groups', ver.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: '4.4.5.0', version: '4' });
    eucart = await e.create([], 'routers', 'Router-v3', { name: 'eucart' });
    eucartBrPort = await e.create([['routers', eucart.id!]], 'ports', 'Port-v3', { type: 'Router', portAddress: INT.rtaddr, networkAddress: INT.net, networkLength: INT.len });
    await e.create([['routers', eucart.id!]], 'routes', 'Route-v1', { srcNetworkAddr: '0.0.0.0', srcNetworkLength: '0', dstNetworkAddr: INT.net, dstNetworkLength: INT.len, type: 'Normal', nextHopPort: eucartBrPort.id!, weight: '0' });
    const pg = await e.create([], 'port_groups', 'PortGroup-v1', { name: 'eucapg', stateful: 'true' });

    const g = MIDO.Gateways[0]!;
    const [extNet, extLen] = g.ExternalCidr.split('/') as [string, string];
    const gwPort = await e.create([['routers', eucart.id!]], 'ports', 'Port-v3', { type: 'Router', portAddress: g.ExternalIp, networkAddress: extNet, networkLength: extLen });
    const route = (dst: string, len: string, hop?: string) => e.create([['routers', eucart.id!]], 'routes', 'Route-v1', {
      srcNetworkAddr: '0.0.0.0', srcNetworkLength: '0', dstNetworkAddr: dst, dstNetworkLength: len, type: 'Normal', nextHopPort: gwPort.id!, weight: '0', ...(hop ? { nextHopGateway: hop } : {}),
    });
    await route(extNet, extLen);
    await route(g.ExternalRouterIp, '32');
    await route('0.0.0.0', '0', g.ExternalRouterIp);
    const gw = await e.hostByIp(gwHost.underlayIp);
    await e.create([['hosts', gw.id!]], 'ports', 'HostInterfacePort-v1', { deviceId: eucart.id!, portId: gwPort.id!, hostId: gw.id!, interfaceName: outside.ifname });
    await e.create([['port_groups', pg.id!]], 'ports', 'PortGroupPort-v1', { portId: gwPort.id! });

    eucabr = await e.create([], 'bridges', 'Bridge-v4', { name: 'eucabr' });
    const brPort = await e.create([['bridges', eucabr.id!]], 'ports', 'Port-v3', { type: 'Bridge' });
    await e.link(eucartBrPort, brPort);
    metadataIag = await e.create([], 'ip_addr_groups', 'IpAddrGroup-v1', { name: 'metadata_ip' });
    await e.create([['ip_addr_groups', metadataIag.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: '169.254.169.254', version: '4' });
    const infilter = await e.create([], 'chains', 'Chain-v1', { name: 'eucabr_infilter' });
    eucabr = await e.update(eucabr, 'Bridge-v4', { inboundFilterId: infilter.id!, name: 'eucabr' });
    assert.equal(eucabr.inboundFilterId, infilter.id);
    await e.create([['chains', infilter.id!]], 'rules', 'Rule-v2', { type: 'drop', invDlType: 'false', dlType: '2048', nwDstAddress: INT.net, nwDstLength: INT.len, invNwDst: 'false' });
    await lab.until(async () => (await lab.call('GET', `/ports/${gwPort.id}`)).json.active === true, 'gateway port active');
  });

  let vpcrt: MidoObject;
  let uplink: MidoObject;
  let preelip: MidoObject;
  let postchain: MidoObject;

  it('builds the VPC (create_mido_vpc)', async () => {
    const ip = `169.254.0.${VPC.rtid}`;
    vpcrt = await e.create([], 'routers', 'Router-v3', { name: `vr_${VPC.name}_${VPC.rtid}` });
    const down = await e.create([['bridges', eucabr.id!]], 'ports', 'Port-v3', { type: 'Bridge' });
    uplink = await e.create([['routers', vpcrt.id!]], 'ports', 'Port-v3', { type: 'Router', portAddress: ip, networkAddress: INT.net, networkLength: INT.len });
    await e.link(down, uplink);
    await e.create([['routers', vpcrt.id!]], 'routes', 'Route-v1', { srcNetworkAddr: '0.0.0.0', srcNetworkLength: '0', dstNetworkAddr: INT.net, dstNetworkLength: INT.len, type: 'Normal', nextHopPort: uplink.id!, weight: '0' });
    const prechain = await e.create([], 'chains', 'Chain-v1', { name: `vc_${VPC.name}_prechain` });
    preelip = await e.create([], 'chains', 'Chain-v1', { name: `vc_${VPC.name}_preelip` });
    postchain = await e.create([], 'chains', 'Chain-v1', { name: `vc_${VPC.name}_postchain` });
    await e.create([['chains', prechain.id!]], 'rules', 'Rule-v2', { position: '1', type: 'jump', jumpChainId: preelip.id! });
    uplink = await e.update(uplink, 'Port-v3', {
      outboundFilterId: postchain.id!, inboundFilterId: prechain.id!, id: uplink.id!, networkAddress: INT.net, networkLength: INT.len,
      portAddress: ip, portMac: String(uplink.portMac), type: 'Router',
    });
    assert.equal(uplink.inboundFilterId, prechain.id);
    assert.equal(uplink.outboundFilterId, postchain.id);
  });

  let subnetBr: MidoObject;

  it('builds the subnet with its DHCP and route table (create_mido_vpc_subnet)', async () => {
    const rport = await e.create([['routers', vpcrt.id!]], 'ports', 'Port-v3', { type: 'Router', portAddress: SUBNET.gw, networkAddress: SUBNET.net, networkLength: SUBNET.len });
    await e.create([['routers', vpcrt.id!]], 'routes', 'Route-v1', { srcNetworkAddr: '0.0.0.0', srcNetworkLength: '0', dstNetworkAddr: SUBNET.net, dstNetworkLength: SUBNET.len, type: 'Normal', nextHopPort: rport.id!, weight: '0' });
    subnetBr = await e.create([], 'bridges', 'Bridge-v4', { name: `vb_${VPC.name}_${SUBNET.name}` });
    const brport = await e.create([['bridges', subnetBr.id!]], 'ports', 'Port-v3', { type: 'Bridge' });
    await e.link(rport, brport);
    const inChain = await e.create([], 'chains', 'Chain-v1', { name: `sc_${SUBNET.name}_in` });
    const outChain = await e.create([], 'chains', 'Chain-v1', { name: `sc_${SUBNET.name}_out` });
    subnetBr = await e.update(subnetBr, 'Bridge-v4', { inboundFilterId: inChain.id!, outboundFilterId: outChain.id!, name: String(subnetBr.name) });
    const dhcp = await e.create([['bridges', subnetBr.id!]], 'dhcp', 'DhcpSubnet-v2', { subnetPrefix: SUBNET.net, subnetLength: SUBNET.len, defaultGateway: SUBNET.gw, dnsServerAddrs: ['10.0.1.2'] });
    assert.equal(dhcp.defaultGateway, SUBNET.gw);
    await e.create([['bridges', subnetBr.id!]], 'arp_table', 'IP4Mac-v1', { ip: SUBNET.dot2, mac: String(rport.portMac) });
    // The main route table's internet gateway route, through eucart.
    await e.create([['routers', vpcrt.id!]], 'routes', 'Route-v1', {
      srcNetworkAddr: SUBNET.net, srcNetworkLength: SUBNET.len, dstNetworkAddr: '0.0.0.0', dstNetworkLength: '0', type: 'Normal', nextHopPort: uplink.id!, weight: '10', nextHopGateway: INT.rtaddr,
    });
  });

  const sg: Record<string, MidoObject> = {};

  it('builds the security group and its rules (create_mido_vpc_secgroup)', async () => {
    for (const [k, name] of [['ingress', `sg_ingress_${SG}`], ['egress', `sg_egress_${SG}`]] as const) sg[k] = await e.create([], 'chains', 'Chain-v1', { name });
    for (const k of ['priv', 'pub', 'all']) sg[k] = await e.create([], 'ip_addr_groups', 'IpAddrGroup-v1', { name: `sg_${k}_${SG}` });
    // Ingress: ping and SSH from anywhere; egress: everything ("null": all protocols).
    await e.create([['chains', sg.ingress!.id!]], 'rules', 'Rule-v2', { position: '1', type: 'accept', nwProto: '1', nwSrcAddress: '0.0.0.0', nwSrcLength: '0' });
    await e.create([['chains', sg.ingress!.id!]], 'rules', 'Rule-v2', { position: '2', type: 'accept', tpDst: { start: '22', end: '22' }, nwProto: '6', nwSrcAddress: '0.0.0.0', nwSrcLength: '0' });
    const all = await e.create([['chains', sg.egress!.id!]], 'rules', 'Rule-v2', { position: '1', type: 'accept', nwProto: 'null', nwDstAddress: '0.0.0.0', nwDstLength: '0' });
    assert.equal(all.nwProto, null);
  });

  it('connects the instance interface with its elastic IP (pass3 instances, connect_mido_vpc_instance[_elip])', async () => {
    const pre = await e.create([], 'ip_addr_groups', 'IpAddrGroup-v1', { name: `elip_pre_${ENI.name}` });
    const post = await e.create([], 'ip_addr_groups', 'IpAddrGroup-v1', { name: `elip_post_${ENI.name}` });
    const ic = {
      pre: await e.create([], 'chains', 'Chain-v1', { name: `ic_${ENI.name}_prechain` }),
      post: await e.create([], 'chains', 'Chain-v1', { name: `ic_${ENI.name}_postchain` }),
    };
    let vmport = await e.create([['bridges', subnetBr.id!]], 'ports', 'Port-v3', { type: 'Bridge' });
    const node = await e.hostByIp(nodeHost.underlayIp);
    await e.create([['hosts', node.id!]], 'ports', 'HostInterfacePort-v1', { deviceId: subnetBr.id!, portId: vmport.id!, hostId: node.id!, interfaceName: vnIface });
    await e.create([['bridges', subnetBr.id!], ['dhcp', `${SUBNET.net}_${SUBNET.len}`]], 'hosts', 'DhcpHost-v2', {
      name: ENI.name, macAddr: ENI.mac, ipAddr: ENI.ip, extraDhcpOpts: [{ optName: 'domain_search', optValue: 'eucalyptus.internal' }],
    });
    await e.create([['bridges', subnetBr.id!]], 'arp_table', 'IP4Mac-v1', { ip: ENI.ip, mac: ENI.mac });
    await e.create([['bridges', subnetBr.id!]], 'mac_table', 'MacPort-v2', { macAddr: ENI.mac, portId: vmport.id! });
    vmport = await e.update(vmport, 'Port-v3', { inboundFilterId: ic.pre.id!, outboundFilterId: ic.post.id!, id: vmport.id!, type: 'Bridge' });
    assert.equal(vmport.inboundFilterId, ic.pre.id);

    // The elastic IP.
    await e.create([['ip_addr_groups', pre.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: ENI.pub, version: '4' });
    await e.create([['ip_addr_groups', post.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: ENI.ip, version: '4' });
    const [vpcNet, vpcLen] = VPC.cidr.split('/') as [string, string];
    const nat = (addr: string) => [{ addressTo: addr, addressFrom: addr, portFrom: '0', portTo: '0' }];
    await e.create([['chains', preelip.id!]], 'rules', 'Rule-v2', { type: 'dnat', flowAction: 'continue', nwDstAddress: ENI.pub, nwDstLength: '32', natTargets: nat(ENI.ip) });
    await e.create([['chains', postchain.id!]], 'rules', 'Rule-v2', { type: 'snat', nwDstAddress: vpcNet, invNwDst: 'true', nwDstLength: vpcLen, flowAction: 'continue', ipAddrGroupSrc: post.id!, natTargets: nat(ENI.pub) });
    await e.create([['routers', eucart.id!]], 'routes', 'Route-v1', {
      srcNetworkAddr: '0.0.0.0', srcNetworkLength: '0', dstNetworkAddr: ENI.pub, dstNetworkLength: '32', type: 'Normal', nextHopPort: eucartBrPort.id!, weight: '100', nextHopGateway: `169.254.0.${VPC.rtid}`,
    });

    // The interface's own rules, in eucanetd's order and positions: anti-spoofing at position 1
    // (each ahead of the last), then appended ones, the security group's jumps before the drops.
    const rule = (chain: MidoObject, body: Record<string, string | object>) => e.create([['chains', chain.id!]], 'rules', 'Rule-v2', body as never);
    await rule(ic.pre, { position: '1', type: 'drop', dlSrc: ENI.mac, invDlSrc: 'true' });
    await rule(ic.pre, { position: '1', type: 'drop', dlType: '2048', nwSrcAddress: ENI.ip, nwSrcLength: '32', invNwSrc: 'true' });
    await rule(ic.post, { position: '1', type: 'drop', dlType: '2048', nwDstAddress: ENI.ip, nwDstLength: '32', invNwDst: 'true' });
    await rule(ic.post, { position: '1', type: 'accept', nwProto: '17', tpDst: { start: '67', end: '68' }, tpSrc: { start: '67', end: '67' } });
    await rule(ic.pre, { position: '1', type: 'drop', dlSrc: ENI.mac, invDlSrc: 'true', dlType: '2054', invDlType: 'false' });
    await rule(ic.pre, { position: '1', type: 'drop', dlType: '2054', nwSrcAddress: ENI.ip, nwSrcLength: '32', invNwSrc: 'true', invDlType: 'false' });
    await rule(ic.post, { position: '1', type: 'drop', dlDst: ENI.mac, invDlDst: 'true', dlType: '2054', invDlType: 'false', nwProto: '2', invNwProto: 'false' });
    await rule(ic.post, { position: '1', type: 'drop', dlType: '2054', nwDstAddress: ENI.ip, nwDstLength: '32', invNwDst: 'true', invDlType: 'false' });
    await rule(ic.pre, { position: '5', type: 'accept', matchReturnFlow: 'true' });
    await rule(ic.post, { position: '5', type: 'accept', matchReturnFlow: 'true' });
    await rule(ic.pre, { position: '6', type: 'accept', nwDstAddress: SUBNET.dot2, nwDstLength: '31' });
    await rule(ic.pre, { position: '7', type: 'accept', nwDstAddress: '169.254.169.248', nwDstLength: '29' });
    await rule(ic.pre, { position: '8', type: 'drop', invDlType: 'true', dlType: '2054' });
    await rule(ic.post, { type: 'drop', invDlType: 'true', position: '6', dlType: '2054' });
    await rule(ic.pre, { position: '8', type: 'jump', jumpChainId: sg.egress!.id! });
    await rule(ic.post, { position: '6', type: 'jump', jumpChainId: sg.ingress!.id! });
    // The security group's members.
    await e.create([['ip_addr_groups', sg.priv!.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: ENI.ip, version: '4' });
    await e.create([['ip_addr_groups', sg.all!.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: ENI.ip, version: '4' });
    await e.create([['ip_addr_groups', sg.pub!.id!]], 'ip_addrs', 'IpAddrGroupAddr-v1', { addr: ENI.pub, version: '4' });
    await lab.until(async () => (await lab.call('GET', `/ports/${vmport.id}`)).json.active === true, 'instance port active');
    const rules = await e.get(`${e.base}/chains/${ic.pre.id}/rules`, 'collection.Rule-v2') as { type: string; position: number }[];
    assert.deepEqual(rules.map((r) => r.type), ['drop', 'drop', 'drop', 'drop', 'accept', 'accept', 'accept', 'jump', 'drop']);
  });

  it('gives the instance its lease by DHCP, and takes it to the outside through the gateway as its elastic IP', async () => {
    const script = join(lab.dir, 'euca-dhclient-script');
    writeFileSync(script, `#!/bin/sh\ncase "$reason" in BOUND|RENEW|REBIND|REBOOT) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"; ip route add default via "$new_routers"; echo "$new_ip_address $new_routers $new_domain_search" > ${lab.dir}/euca-lease;; esac\n`, { mode: 0o755 });
    const r = await nsExec(instance.ns, ['dhclient', '-1', '-sf', script, '-lf', join(lab.dir, 'euca.leases'), '-pf', join(lab.dir, 'euca.pid'), 'eth0'], 30_000);
    assert.equal(r.code, 0, r.stderr);
    const [addr, router] = readFileSync(join(lab.dir, 'euca-lease'), 'utf8').trim().split(' ');
    assert.deepEqual([addr, router], [ENI.ip, SUBNET.gw]);
    // The upstream router knows only the public range (via the gateway): a reply proves the SNAT to the elastic IP.
    await lab.until(async () => (await nsExec(instance.ns, ['ping', '-c', '1', '-W', '1', MIDO.Gateways[0]!.ExternalRouterIp])).code === 0, 'ping the upstream router', 20_000);
    const seen = nsExec(outside.ns, ['timeout', '5', 'tcpdump', '-c', '1', '-n', '-i', 'eth0', 'icmp and src host ' + ENI.pub], 10_000);
    await new Promise((res) => setTimeout(res, 500));
    await nsExec(instance.ns, ['ping', '-c', '2', '-W', '1', MIDO.Gateways[0]!.ExternalRouterIp]);
    assert.match((await seen).stdout, new RegExp(`${ENI.pub.replace(/\./g, '\\.')} > 192\\.0\\.2\\.1`));
    // And from the outside, to the elastic IP (the security group lets ping in).
    assert.equal((await nsExec(outside.ns, ['ping', '-c', '2', '-W', '2', ENI.pub])).code, 0);
    await nsExec(instance.ns, ['dhclient', '-x', '-pf', join(lab.dir, 'euca.pid')]);
  });

  it('made every call the way eucanetd makes them: writes after a system_state read, objects read back', () => {
    const writes = e.calls.filter((c) => !c.startsWith('GET'));
    assert.ok(writes.length > 60, `${writes.length} writes`);
    for (const [i, c] of e.calls.entries()) if (!c.startsWith('GET')) assert.equal(e.calls[i - 1], 'GET /midonet-api/system_state', c);
  });
});
