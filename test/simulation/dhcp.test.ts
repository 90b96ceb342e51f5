import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromString } from '../../src/packets/bytes.ts';
import { BOOTREQUEST, buildDhcp, dhcpOption, DhcpMsg, OPT, parseDhcp, u32Bytes, type DhcpOption } from '../../src/packets/dhcp.ts';
import { ipToInt } from '../../src/model/net.ts';
import { Sim, TopoBuilder, udp } from '../helpers/topology.ts';

const CLIENT = '02:aa:bb:cc:dd:01';

function request(type: DhcpMsg, requested?: string) {
  const options: DhcpOption[] = [{ code: OPT.messageType, data: new Uint8Array([type]) }];
  if (requested) options.push({ code: OPT.requestedIp, data: u32Bytes(ipToInt(requested)) });
  const payload = buildDhcp({ op: BOOTREQUEST, htype: 1, hlen: 6, hops: 0, xid: 0x1234, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: macFromString(CLIENT), options });
  return udp({ srcMac: CLIENT, dstMac: 'ff:ff:ff:ff:ff:ff', src: '0.0.0.0', dst: '255.255.255.255' }, 68, 67, payload);
}

function setup(interfaceMtu: number | null = 1450) {
  const t = new TopoBuilder();
  const b = t.bridge();
  const vm = t.bridgePort(b);
  const other = t.bridgePort(b);
  t.dhcp(b, {
    subnetAddress: '10.0.0.0', subnetLength: 24, defaultGateway: '10.0.0.1', dnsServerAddrs: ['10.0.0.2', '9.9.9.9'], interfaceMtu,
    opt121Routes: [{ destinationPrefix: '169.254.169.254', destinationLength: 32, gatewayAddr: '10.0.0.2' }],
    hosts: [{ macAddr: CLIENT, ipAddr: '10.0.0.5', name: 'vm1', extraDhcpOpts: [{ optName: 'domain-name', optValue: 'example.org' }] }],
  });
  return { sim: new Sim(t.build()), vm, other };
}

function reply(res: ReturnType<Sim['send']>) {
  const f = res.generated[0]!.frame.payload;
  assert.ok(f.kind === 'ipv4' && f.payload.kind === 'udp');
  const d = parseDhcp(f.payload.payload);
  assert.ok(d.ok);
  return { ip: f, dhcp: d.value };
}

describe('DHCP answered by the bridge', () => {
  it('offers and acknowledges the configured address with gateway, DNS, MTU and routes', () => {
    const { sim, vm } = setup();
    const offer = sim.send(vm, request(DhcpMsg.Discover));
    assert.equal(offer.action, 'consume');
    assert.equal(offer.generated[0]!.egressPort, vm.id);
    const o = reply(offer);
    assert.equal(dhcpOption(o.dhcp, OPT.messageType)![0], DhcpMsg.Offer);
    assert.equal(o.dhcp.yiaddr, ipToInt('10.0.0.5'));
    assert.equal(o.dhcp.xid, 0x1234);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.router)!], [10, 0, 0, 1]);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.subnetMask)!], [255, 255, 255, 0]);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.dns)!], [10, 0, 0, 2, 9, 9, 9, 9]);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.mtu)!], [0x05, 0xaa]);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.leaseTime)!], [0, 1, 0x51, 0x80]);
    assert.deepEqual([...dhcpOption(o.dhcp, OPT.classlessRoutes)!], [32, 169, 254, 169, 254, 10, 0, 0, 2, 0, 10, 0, 0, 1]);
    assert.equal(new TextDecoder().decode(dhcpOption(o.dhcp, OPT.hostName)), 'vm1');
    assert.equal(new TextDecoder().decode(dhcpOption(o.dhcp, OPT.domainName)), 'example.org');
    const ack = reply(sim.send(vm, request(DhcpMsg.Request, '10.0.0.5')));
    assert.equal(dhcpOption(ack.dhcp, OPT.messageType)![0], DhcpMsg.Ack);
    const nak = reply(sim.send(vm, request(DhcpMsg.Request, '10.0.0.99')));
    assert.equal(dhcpOption(nak.dhcp, OPT.messageType)![0], DhcpMsg.Nak);
  });

  it("offers no larger an MTU than the underlay carries whole: MidoNet's min(subnet or configured, tunnel MTU less overhead)", () => {
    const mtu = ({ sim, vm } = setup()) => {
      const d = reply(sim.send(vm, request(DhcpMsg.Discover))).dhcp;
      const b = dhcpOption(d, OPT.mtu)!;
      return (b[0]! << 8) | b[1]!;
    };
    const lab = setup();
    assert.equal(mtu(lab), 1450, "the subnet's, no tunnel known yet");
    lab.sim.state.config.tunnelMtu = 1400;
    assert.equal(mtu(lab), 1400, 'the tunnel carries less');
    lab.sim.state.config.tunnelMtu = 8950;
    assert.equal(mtu(lab), 1450, "jumbo underlay: the subnet's");
    const bare = setup(null);
    assert.equal(mtu(bare), 1500, 'no subnet MTU: agent.midolman.dhcp_mtu');
    bare.sim.state.config.tunnelMtu = 1450;
    assert.equal(mtu(bare), 1450);
  });

  it('leaves unknown clients alone (the request floods like any broadcast)', () => {
    const t = new TopoBuilder();
    const b = t.bridge();
    const vm = t.bridgePort(b);
    t.bridgePort(b);
    t.dhcp(b, { subnetAddress: '10.0.0.0', subnetLength: 24, hosts: [] });
    const res = new Sim(t.build()).send(vm, request(DhcpMsg.Discover));
    assert.equal(res.action, 'forward');
    assert.equal(res.generated.length, 0);
  });
});
