import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromString } from '../../src/packets/bytes.ts';
import { intToIp, ipToInt } from '../../src/model/net.ts';
import { parseQuoted } from '../../src/packets/ipv4.ts';
import type { Ethernet } from '../../src/packets/types.ts';
import { Sim, ping, tcp, udp } from '../helpers/topology.ts';
import { twoTier, type TwoTier } from '../helpers/two-tier.ts';

/** The tenant router SNATs to `ips` on its uplink and reverses on the way in, as Neutron sets it up. */
function withSnat(n: TwoTier, ipFrom: string, ipTo: string, portFrom = 0, portTo = 0) {
  const pre = n.t.chain('pre');
  const post = n.t.chain('post');
  n.t.rule(pre, { type: 'rev_snat', flowAction: 'accept' });
  n.t.rule(post, { type: 'snat', flowAction: 'accept', outPorts: [n.uplink.id], natTargets: [{ addressFrom: ipFrom, addressTo: ipTo, portFrom, portTo }], fragmentPolicy: 'unfragmented' });
  n.r.inboundFilterId = pre.id;
  n.r.outboundFilterId = post.id;
  const sim = new Sim(n.t.build());
  sim.state.arp.learn(n.r.id, ipToInt('172.16.0.254'), macFromString(n.mac.gw), sim.now);
  return sim;
}

const fromOutside = (n: TwoTier, src: string, dst: string) => ({ srcMac: n.mac.gw, dstMac: n.mac.uplink, src, dst });

describe('NAT', () => {
  it('dynamic SNAT gives every flow its own (ip, port) and translates replies back', () => {
    const n = twoTier();
    const sim = withSnat(n, '172.16.0.10', '172.16.0.11', 2000, 2999);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const r = sim.send(n.vm1, tcp(n.fromVm1('8.8.8.8'), 30000 + (i % 50), 443 + Math.floor(i / 50)));
      assert.equal(r.action, 'forward');
      const o = r.outputs[0]!;
      assert.equal(o.portId, n.uplink.id);
      const key = `${o.match.ipSrc}:${o.match.srcPort}`;
      assert.ok(!seen.has(key), `${key} handed out twice`);
      seen.add(key);
      assert.ok(o.match.srcPort >= 2000 && o.match.srcPort <= 2999);
    }
    const out = sim.send(n.vm1, tcp(n.fromVm1('8.8.8.8'), 30001, 443)).outputs[0]!.match;
    const back = sim.send(n.uplink, tcp(fromOutside(n, '8.8.8.8', intToIp(out.ipSrc)), 443, out.srcPort, 0x12));
    // The reply needs vm1's MAC: the router asks, vm1's bridge floods the request.
    assert.equal(back.action, 'parked');
    sim.state.arp.learn(n.r.id, ipToInt('10.0.0.5'), macFromString(n.mac.vm1), sim.now);
    const again = sim.send(n.uplink, tcp(fromOutside(n, '8.8.8.8', intToIp(out.ipSrc)), 443, out.srcPort, 0x12));
    assert.equal(again.action, 'forward');
    assert.equal(again.outputs[0]!.portId, n.vm1.id);
    assert.equal(again.outputs[0]!.match.ipDst, ipToInt('10.0.0.5'));
    assert.equal(again.outputs[0]!.match.dstPort, 30001);
  });

  it('drops new flows, counted, when the ports run out', () => {
    const n = twoTier();
    const sim = withSnat(n, '172.16.0.10', '172.16.0.10', 5000, 5001);
    assert.equal(sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 1, 53)).action, 'forward');
    assert.equal(sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 2, 53)).action, 'forward');
    const third = sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 3, 53));
    assert.equal(third.action, 'drop');
    assert.equal(sim.state.counters.get('nat_port_exhausted'), 1);
    assert.equal(sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 1, 53)).action, 'forward', 'existing flows keep their binding');
    sim.now += 61_000;
    sim.state.sweep(sim.now);
    assert.equal(sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 3, 53)).action, 'forward', 'expired bindings give their ports back');
  });

  it('NATs ICMP echo by its identifier (static and dynamic)', () => {
    for (const ports of [[0, 0], [30000, 30010]]) icmpThroughSnat(ports[0]!, ports[1]!);
  });

  function icmpThroughSnat(portFrom: number, portTo: number): void {
    const n = twoTier();
    const sim = withSnat(n, '172.16.0.10', '172.16.0.10', portFrom, portTo);
    sim.state.arp.learn(n.r.id, ipToInt('10.0.0.5'), macFromString(n.mac.vm1), sim.now);
    const out = sim.send(n.vm1, ping(n.fromVm1('8.8.8.8'), 77, 1)).outputs[0]!;
    assert.equal(out.match.ipSrc, ipToInt('172.16.0.10'));
    const id = out.match.icmpId;
    const reply: Ethernet = ping(fromOutside(n, '8.8.8.8', '172.16.0.10'), id, 1);
    if (reply.payload.kind === 'ipv4' && reply.payload.payload.kind === 'icmp') reply.payload.payload.type = 0;
    const back = sim.send(n.uplink, reply);
    assert.equal(back.action, 'forward');
    assert.equal(back.outputs[0]!.match.ipDst, ipToInt('10.0.0.5'));
    assert.equal(back.outputs[0]!.match.icmpId, 77);
    if (portFrom !== 0) assert.ok(id >= portFrom && id <= portTo, 'dynamic SNAT gives the echo a new id');
  }

  it('translates an ICMP error about a SNATed flow back to the inside', () => {
    const n = twoTier();
    const sim = withSnat(n, '172.16.0.10', '172.16.0.10');
    sim.state.arp.learn(n.r.id, ipToInt('10.0.0.5'), macFromString(n.mac.vm1), sim.now);
    const fwd = sim.send(n.vm1, udp(n.fromVm1('8.8.8.8'), 40000, 33434)).outputs[0]!.match;
    // The far end answers port-unreachable, quoting the translated datagram.
    const quoted = new Uint8Array(28);
    const v = new DataView(quoted.buffer);
    quoted[0] = 0x45;
    v.setUint16(2, 28);
    quoted[8] = 63;
    quoted[9] = 17;
    v.setUint32(12, fwd.ipSrc);
    v.setUint32(16, ipToInt('8.8.8.8'));
    v.setUint16(20, fwd.srcPort);
    v.setUint16(22, 33434);
    const err: Ethernet = ping(fromOutside(n, '8.8.8.8', '172.16.0.10'));
    if (err.payload.kind === 'ipv4') err.payload.payload = { kind: 'icmp', type: 3, code: 3, rest: 0, data: quoted };
    const back = sim.send(n.uplink, err);
    assert.equal(back.action, 'forward');
    const m = back.outputs[0]!.match;
    assert.equal(m.ipDst, ipToInt('10.0.0.5'));
    assert.equal(m.icmpData!.src, ipToInt('10.0.0.5'));
    assert.equal(m.icmpData!.srcPort, 40000);
    assert.ok(parseQuoted(quoted));
  });

  it('floating IP: static DNAT in, static SNAT out, ports kept', () => {
    const n = twoTier();
    const pre = n.t.chain('pre');
    const post = n.t.chain('post');
    n.t.rule(pre, { type: 'dnat', flowAction: 'accept', nwDstAddress: '172.16.0.50', nwDstLength: 32, natTargets: [{ addressFrom: '10.0.1.5', addressTo: '10.0.1.5', portFrom: 0, portTo: 0 }] });
    n.t.rule(post, { type: 'snat', flowAction: 'accept', nwSrcAddress: '10.0.1.5', nwSrcLength: 32, outPorts: [n.uplink.id], natTargets: [{ addressFrom: '172.16.0.50', addressTo: '172.16.0.50', portFrom: 0, portTo: 0 }] });
    n.r.inboundFilterId = pre.id;
    n.r.outboundFilterId = post.id;
    const sim = new Sim(n.t.build());
    sim.state.arp.learn(n.r.id, ipToInt('10.0.1.5'), macFromString(n.mac.vm3), sim.now);
    sim.state.arp.learn(n.r.id, ipToInt('172.16.0.254'), macFromString(n.mac.gw), sim.now);
    const inbound = sim.send(n.uplink, tcp(fromOutside(n, '198.51.100.7', '172.16.0.50'), 5555, 22));
    assert.equal(inbound.action, 'forward');
    assert.deepEqual([inbound.outputs[0]!.portId, inbound.outputs[0]!.match.ipDst, inbound.outputs[0]!.match.dstPort], [n.vm3.id, ipToInt('10.0.1.5'), 22]);
    const out = sim.send(n.vm3, tcp({ srcMac: n.mac.vm3, dstMac: n.mac.rp2, src: '10.0.1.5', dst: '198.51.100.7' }, 22, 5555, 0x12));
    assert.deepEqual([out.outputs[0]!.portId, out.outputs[0]!.match.ipSrc, out.outputs[0]!.match.srcPort], [n.uplink.id, ipToInt('172.16.0.50'), 22]);
  });
});
