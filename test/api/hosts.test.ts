import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiFixture, BASE, V } from '../helpers/api.ts';

describe('hosts, tunnel zones and port bindings', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('shows agent-reported state: alive, interfaces and addresses', async () => {
    const h = await api.create('/hosts', { name: 'compute1' }, V('Host-v3'));
    const iface = { name: 'eth0', mac: '52:54:00:00:00:01', mtu: 1500, type: 'Physical', endpoint: 'PHYSICAL', portType: null, addresses: ['192.0.2.10'], status: 3 };
    await api.store.setState({ type: 'Host', id: h, key: 'host' }, JSON.stringify({ interfaces: [iface] }));
    await api.store.setState({ type: 'Host', id: h, key: 'alive' }, 'true', 'agent-session');
    const g = await api.req('GET', `/hosts/${h}`, { accept: V('Host-v3') });
    assert.equal(g.json.alive, true);
    assert.deepEqual(g.json.addresses, ['192.0.2.10']);
    assert.equal(g.json.interfaces, `${BASE}/hosts/${h}/interfaces`);
    assert.equal(g.json.hostInterfaces[0].name, 'eth0');
    const i = await api.req('GET', `/hosts/${h}/interfaces/eth0`, { accept: V('Interface-v1') });
    assert.equal(i.json.mac, '52:54:00:00:00:01');
    assert.equal(i.json.uri, `${BASE}/hosts/${h}/interfaces/eth0`);
    assert.equal((await api.req('GET', `/hosts/${h}/interfaces`)).json.length, 1);
    assert.equal((await api.req('DELETE', `/hosts/${h}`)).status, 403, 'alive hosts cannot be deleted');
    await api.store.endSession('agent-session');
    assert.equal((await api.req('GET', `/hosts/${h}`)).json.alive, false);
    const put = await api.req('PUT', `/hosts/${h}`, { body: { floodingProxyWeight: 5, containerWeight: 2, containerLimit: -1, enforceContainerLimit: true } });
    assert.equal(put.status, 200);
    assert.equal(put.json.floodingProxyWeight, 5);
    assert.equal((await api.req('PUT', `/hosts/${h}`, { body: { floodingProxyWeight: 5 } })).status, 400, 'all four weights required');
    assert.equal((await api.req('DELETE', `/hosts/${h}`)).status, 200);
  });

  it('manages tunnel zone members and binds ports only for members, one port per interface', async () => {
    const h = await api.create('/hosts', { name: 'compute2' });
    const b = await api.create('/bridges', { name: 'b' });
    const p1 = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const p2 = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const bind = (port: string, iface: string) =>
      api.req('POST', `/hosts/${h}/ports`, { body: { portId: port, interfaceName: iface }, type: V('HostInterfacePort-v1') });
    assert.equal((await bind(p1, 'tap1')).status, 409, 'host in no tunnel zone');

    const tz = await api.create('/tunnel_zones', { name: 'tz', type: 'vxlan' }, V('TunnelZone-v1'));
    assert.equal((await api.req('POST', '/tunnel_zones', { body: { name: 'x', type: 'ipip' } })).status, 400);
    const member = { hostId: h, ipAddress: '192.0.2.10' };
    assert.equal((await api.req('POST', `/tunnel_zones/${tz}/hosts`, { body: member, type: 'application/json' })).status, 406, 'vendor type only');
    const m = await api.req('POST', `/tunnel_zones/${tz}/hosts`, { body: member, type: V('TunnelZoneHost-v1') });
    assert.equal(m.status, 201);
    assert.equal(m.headers.location, `${BASE}/tunnel_zones/${tz}/hosts/${h}`);
    assert.equal((await api.req('POST', `/tunnel_zones/${tz}/hosts`, { body: member, type: V('TunnelZoneHost-v1') })).status, 409);
    const members = await api.req('GET', `/tunnel_zones/${tz}/hosts`, { accept: V('collection.TunnelZoneHost-v1') });
    assert.deepEqual(members.json.map((x: { hostId: string; ipAddress: string }) => [x.hostId, x.ipAddress]), [[h, '192.0.2.10']]);

    const ok = await bind(p1, 'tap1');
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.location, `${BASE}/hosts/${h}/ports/${p1}`);
    assert.equal((await bind(p2, 'tap1')).status, 409, 'interface already used');
    assert.equal((await bind(p1, 'tap9')).status, 409, 'port already bound');
    const port = (await api.req('GET', `/ports/${p1}`)).json;
    assert.deepEqual([port.hostId, port.interfaceName, port.hostInterfacePort], [h, 'tap1', `${BASE}/hosts/${h}/ports/${p1}`]);
    const list = await api.req('GET', `/hosts/${h}/ports`, { accept: V('collection.HostInterfacePort-v1') });
    assert.deepEqual(list.json.map((x: { portId: string; interfaceName: string }) => [x.portId, x.interfaceName]), [[p1, 'tap1']]);
    assert.equal((await api.req('DELETE', `/hosts/${h}`)).status, 403, 'host with bindings');
    assert.equal((await api.req('DELETE', `/hosts/${h}/ports/${p1}`)).status, 204);
    const unbound = (await api.req('GET', `/ports/${p1}`)).json;
    assert.deepEqual([unbound.hostId, unbound.interfaceName], [null, null]);
    assert.equal((await api.req('DELETE', `/tunnel_zones/${tz}/hosts/${h}`)).status, 204);
    assert.equal((await api.req('GET', `/tunnel_zones/${tz}/hosts/${h}`)).status, 404);
    assert.equal((await api.req('POST', `/tunnel_zones/${tz}/hosts`, { body: { hostId: randomUUID(), ipAddress: '1.2.3.4' }, type: V('TunnelZoneHost-v1') })).status, 404);
  });
});

describe('port groups, IP address groups, BGP, DHCP and bridge tables', () => {
  let api: ApiFixture;
  before(async () => (api = await ApiFixture.start()));
  after(() => api.close());

  it('port groups and their members', async () => {
    const g = await api.create('/port_groups', { name: 'pg', stateful: true, tenantId: 't' }, V('PortGroup-v1'));
    assert.equal((await api.req('GET', `/port_groups/${g}`, { accept: 'application/json' })).status, 406, 'GET is vendor only');
    const b = await api.create('/bridges', { name: 'b' });
    const p = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const m = await api.req('POST', `/port_groups/${g}/ports`, { body: { portId: p }, type: V('PortGroupPort-v1') });
    assert.equal(m.headers.location, `${BASE}/port_groups/${g}/ports/${p}`);
    assert.equal((await api.req('POST', `/port_groups/${g}/ports`, { body: { portId: p } })).status, 409);
    assert.deepEqual((await api.req('GET', `/ports/${p}/port_groups`)).json.map((x: { portGroupId: string }) => x.portGroupId), [g]);
    await api.req('DELETE', `/ports/${p}`);
    assert.deepEqual((await api.req('GET', `/port_groups/${g}/ports`)).json, [], 'port delete clears membership');
  });

  it('IP address groups and their addresses', async () => {
    const g = await api.create('/ip_addr_groups', { name: 'web' }, V('IpAddrGroup-v1'));
    const a = await api.req('POST', `/ip_addr_groups/${g}/ip_addrs`, { body: { addr: '10.0.0.1' }, type: V('IpAddrGroupAddr-v1') });
    assert.equal(a.headers.location, `${BASE}/ip_addr_groups/${g}/versions/4/ip_addrs/10.0.0.1`);
    await api.create(`/ip_addr_groups/${g}/ip_addrs`, { addr: 'fd00::1' });
    assert.equal((await api.req('POST', `/ip_addr_groups/${g}/ip_addrs`, { body: { addr: 'nope' } })).status, 400);
    const got = await api.req('GET', `/ip_addr_groups/${g}/versions/6/ip_addrs/${encodeURIComponent('fd00::1')}`, { accept: V('IpAddrGroupAddr-v1') });
    assert.equal(got.json.version, 6);
    assert.equal((await api.req('GET', `/ip_addr_groups/${g}`, { accept: V('IpAddrGroup-v1') })).json.ipAddrPorts.length, 2);
    // A rule matching on the group goes with it rather than widening to match everything.
    const c = await api.create('/chains', { name: 'c' });
    const r = await api.create(`/chains/${c}/rules`, { type: 'accept', ipAddrGroupSrc: g });
    assert.equal((await api.req('DELETE', `/ip_addr_groups/${g}`)).status, 204);
    assert.equal((await api.req('GET', `/rules/${r}`)).status, 404);
  });

  it('BGP peers and networks of a router', async () => {
    const r = await api.create('/routers', { name: 'edge', asNumber: 64512 });
    const peer = await api.create(`/routers/${r}/bgp_peers`, { asNumber: 64513, address: '198.51.100.2', keepAlive: 10, holdTime: 30, connectRetry: 10, password: 'pw' }, V('BgpPeer-v1'));
    assert.equal((await api.req('POST', `/routers/${r}/bgp_peers`, { body: { asNumber: 64513, address: '198.51.100.2' } })).status, 409);
    assert.equal((await api.req('POST', `/routers/${r}/bgp_peers`, { body: { asNumber: 64513, address: '198.51.100.3', keepAlive: 1 } })).status, 400);
    const pg = (await api.req('GET', `/bgp_peers/${peer}`, { accept: V('BgpPeer-v1') })).json;
    assert.deepEqual([pg.asNumber, pg.keepAlive, pg.router], [64513, 10, `${BASE}/routers/${r}`]);
    assert.equal((await api.req('PUT', `/bgp_peers/${peer}`, { body: { ...pg, holdTime: 90 } })).status, 204);
    assert.equal((await api.req('GET', `/bgp_peers/${peer}`)).json.holdTime, 90);
    const net = await api.create(`/routers/${r}/bgp_networks`, { subnetAddress: '192.0.2.0', subnetLength: 24 }, V('BgpNetwork-v1'));
    assert.equal((await api.req('GET', `/routers/${r}/bgp_networks`)).json[0].id, net);
    await api.req('DELETE', `/routers/${r}`);
    assert.equal((await api.req('GET', `/bgp_peers/${peer}`)).status, 404);
    assert.equal((await api.req('GET', `/bgp_networks/${net}`)).status, 404);
  });

  it('DHCP subnets addressed as a.b.c.d_len, hosts by MAC', async () => {
    const b = await api.create('/bridges', { name: 'b' });
    const body = { subnetPrefix: '10.0.0.0', subnetLength: 24, defaultGateway: '10.0.0.1', dnsServerAddrs: ['8.8.8.8'], opt121Routes: [{ destinationPrefix: '169.254.169.254', destinationLength: 32, gatewayAddr: '10.0.0.2' }] };
    const s = await api.req('POST', `/bridges/${b}/dhcp`, { body, type: V('DhcpSubnet-v2') });
    assert.equal(s.status, 201);
    assert.equal(s.headers.location, `${BASE}/bridges/${b}/dhcp/10.0.0.0_24`);
    assert.equal((await api.req('POST', `/bridges/${b}/dhcp`, { body, type: V('DhcpSubnet-v2') })).status, 409);
    assert.equal((await api.req('GET', `/bridges/${b}/dhcp`, { accept: 'application/json' })).status, 406);
    const g = (await api.req('GET', `/bridges/${b}/dhcp/10.0.0.0_24`, { accept: V('DhcpSubnet-v2') })).json;
    assert.deepEqual([g.defaultGateway, g.dnsServerAddrs, g.enabled, g.interfaceMTU], ['10.0.0.1', ['8.8.8.8'], true, null]);
    const h = await api.req('POST', `/bridges/${b}/dhcp/10.0.0.0_24/hosts`, { body: { macAddr: 'aa:bb:cc:00:00:01', ipAddr: '10.0.0.5', name: 'vm1' }, type: V('DhcpHost-v2') });
    assert.equal(h.headers.location, `${BASE}/bridges/${b}/dhcp/10.0.0.0_24/hosts/aa:bb:cc:00:00:01`);
    assert.equal((await api.req('GET', String(h.headers.location), { accept: V('DhcpHost-v2') })).json.ipAddr, '10.0.0.5');
    assert.equal((await api.req('DELETE', `/bridges/${b}/dhcp/10.0.0.0_24/hosts/aa-bb-cc-00-00-01`)).status, 204);
    assert.equal((await api.req('GET', `/bridges/${b}/dhcp/10.0.0.0_24/hosts`, { accept: V('collection.DhcpHost-v2') })).json.length, 0);
    assert.equal((await api.req('DELETE', `/bridges/${b}`)).status, 204);
    assert.equal((await api.req('GET', `/bridges/${b}/dhcp/10.0.0.0_24`)).status, 404);
  });

  it('MAC and ARP table entries', async () => {
    const b = await api.create('/bridges', { name: 'b' });
    const p = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
    const m = await api.req('POST', `/bridges/${b}/mac_table`, { body: { macAddr: 'aa:bb:cc:dd:ee:01', portId: p }, type: V('MacPort-v2') });
    assert.equal(m.headers.location, `${BASE}/bridges/${b}/mac_table/aa-bb-cc-dd-ee-01_${p}`);
    await api.create(`/bridges/${b}/vlans/5/mac_table`, { macAddr: 'aa:bb:cc:dd:ee:02', portId: p });
    const all = (await api.req('GET', `/bridges/${b}/mac_table`, { accept: V('collection.MacPort-v2') })).json;
    assert.deepEqual(all.map((e: { macAddr: string; vlanId: number }) => [e.macAddr, e.vlanId]).sort(), [['aa:bb:cc:dd:ee:01', 0], ['aa:bb:cc:dd:ee:02', 5]]);
    assert.equal((await api.req('GET', String(m.headers.location))).json.portId, p);
    assert.equal((await api.req('DELETE', String(m.headers.location))).status, 204);
    assert.equal((await api.req('GET', String(m.headers.location))).status, 404);
    const a = await api.req('POST', `/bridges/${b}/arp_table`, { body: { ip: '10.0.0.9', mac: 'aa:bb:cc:dd:ee:09' }, type: V('IP4Mac-v1') });
    assert.equal(a.headers.location, `${BASE}/bridges/${b}/arp_table/10.0.0.9_aa-bb-cc-dd-ee-09`);
    assert.deepEqual((await api.req('GET', `/bridges/${b}/arp_table`)).json.map((e: { ip: string }) => e.ip), ['10.0.0.9']);
    assert.equal((await api.req('POST', `/bridges/${b}/arp_table`, { body: { ip: 'x', mac: 'y' } })).status, 400);
  });
});
