import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim, ping, tcp, TopoBuilder, udp } from '../helpers/topology.ts';

function twoVms() {
  const t = new TopoBuilder();
  const b = t.bridge();
  const vm1 = t.bridgePort(b);
  const vm2 = t.bridgePort(b);
  const to2 = { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', src: '10.0.0.1', dst: '10.0.0.2' };
  const to1 = { srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01', src: '10.0.0.2', dst: '10.0.0.1' };
  return { t, b, vm1, vm2, to2, to1 };
}

describe('chains and rules', () => {
  it('drops TCP/22 but lets ping through; reject answers with a reset or ICMP', () => {
    const { t, vm1, vm2, to2 } = twoVms();
    const c = t.chain('guard');
    t.rule(c, { type: 'drop', nwProto: 6, tpDst: { start: 22, end: 22 }, fragmentPolicy: 'header' });
    t.rule(c, { type: 'reject', nwProto: 6, tpDst: { start: 23, end: 23 }, fragmentPolicy: 'header' });
    t.rule(c, { type: 'reject', nwProto: 17 });
    vm2.inboundFilterId = null;
    vm2.outboundFilterId = c.id;
    const sim = new Sim(t.build());
    sim.send(vm2, ping({ ...to2, srcMac: to2.dstMac, dstMac: to2.srcMac, src: to2.dst, dst: to2.src }));
    assert.equal(sim.send(vm1, tcp(to2, 40000, 22)).action, 'drop');
    assert.equal(sim.send(vm1, tcp(to2, 40000, 22)).generated.length, 0);
    assert.equal(sim.send(vm1, ping(to2)).action, 'forward');
    const rst = sim.send(vm1, tcp(to2, 40000, 23)).generated[0]!;
    assert.equal(rst.egressPort, vm1.id);
    assert.ok(rst.frame.payload.kind === 'ipv4' && rst.frame.payload.payload.kind === 'tcp' && (rst.frame.payload.payload.flags & 0x04) !== 0);
    const icmp = sim.send(vm1, udp(to2, 5, 6)).generated[0]!.frame.payload;
    assert.ok(icmp.kind === 'ipv4' && icmp.payload.kind === 'icmp' && icmp.payload.type === 3 && icmp.payload.code === 13);
  });

  it('jumps, returns, and survives jump loops', () => {
    const { t, vm1, vm2, to2 } = twoVms();
    const top = t.chain('top');
    const sub = t.chain('sub');
    const loop = t.chain('loop');
    t.rule(top, { type: 'jump', jumpChainId: sub.id });
    t.rule(top, { type: 'drop', nwProto: 17 });
    t.rule(sub, { type: 'return', nwProto: 17, tpDst: { start: 1, end: 100 }, fragmentPolicy: 'header' });
    t.rule(sub, { type: 'accept', nwProto: 17 });
    t.rule(sub, { type: 'jump', jumpChainId: loop.id });
    t.rule(loop, { type: 'jump', jumpChainId: top.id });
    t.rule(loop, { type: 'jump', jumpChainId: sub.id });
    t.rule(loop, { type: 'drop', nwProto: 6 });
    vm2.outboundFilterId = top.id;
    const sim = new Sim(t.build());
    assert.equal(sim.send(vm1, udp(to2, 5, 50)).action, 'drop', 'returned from sub, dropped in top');
    assert.equal(sim.send(vm1, udp(to2, 5, 500)).action, 'forward', 'accepted in sub');
    const looping = sim.send(vm1, tcp(to2, 5, 80), true);
    assert.equal(looping.action, 'drop', 'reaches the drop in loop without recursing forever');
    assert.ok(looping.trace!.some((s) => /would loop/.test(s.verdict)));
  });

  it('honours inversions, address groups, port groups and MAC masks', () => {
    const { t, vm1, vm2, to2 } = twoVms();
    const g = t.ipAddrGroup(['10.0.0.1']);
    const pg = t.portGroup([vm1]);
    const c = t.chain();
    t.rule(c, { type: 'accept', ipAddrGroupSrc: g.id, inPortGroup: pg.id, nwProto: 17, invNwProto: true });
    t.rule(c, { type: 'accept', dlSrc: '02:00:00:ff:ff:ff', dlSrcMask: 'ffff.ff00.0000', nwProto: 17 });
    t.rule(c, { type: 'drop', condInvert: true, nwSrcAddress: '10.0.0.0', nwSrcLength: 8 });
    t.rule(c, { type: 'drop' });
    vm2.outboundFilterId = c.id;
    const sim = new Sim(t.build());
    assert.equal(sim.send(vm1, tcp(to2, 1, 2)).action, 'forward', 'group match, protocol not UDP');
    assert.equal(sim.send(vm1, udp(to2, 1, 2)).action, 'forward', 'MAC 02:00:00:* under mask');
    assert.equal(sim.send(vm1, udp({ ...to2, srcMac: '02:00:01:00:00:01' }, 1, 2)).action, 'drop');
    assert.equal(sim.send(vm1, tcp({ ...to2, srcMac: '02:00:01:00:00:01', src: '10.0.0.3' }, 1, 2)).action, 'drop');
  });

  it('applies fragment policies: header rules skip later fragments, nonheader rules catch them', () => {
    const { t, vm1, vm2, to2 } = twoVms();
    const c = t.chain();
    t.rule(c, { type: 'accept', nwProto: 17, tpDst: { start: 53, end: 53 }, fragmentPolicy: 'header' });
    t.rule(c, { type: 'accept', nwProto: 17, fragmentPolicy: 'nonheader', nwSrcAddress: '10.0.0.1', nwSrcLength: 32 });
    t.rule(c, { type: 'drop' });
    vm2.outboundFilterId = c.id;
    const sim = new Sim(t.build());
    assert.equal(sim.send(vm1, udp({ ...to2, frag: { mf: true } }, 9, 53)).action, 'forward', 'first fragment has the header');
    assert.equal(sim.send(vm1, udp({ ...to2, frag: { offset: 10 } }, 9, 53)).action, 'forward', 'later fragment: nonheader rule');
    assert.equal(sim.send(vm1, udp({ ...to2, src: '10.0.0.9', frag: { offset: 10 } }, 9, 53)).action, 'drop');
  });

  it('tracks connections: replies pass a return-flow-only rule, new inbound flows do not', () => {
    const { t, vm1, vm2, to2, to1 } = twoVms();
    const c = t.chain('vm2-in');
    t.rule(c, { type: 'accept', matchReturnFlow: true });
    t.rule(c, { type: 'drop' });
    vm1.outboundFilterId = c.id;
    const track = t.chain('vm1-out');
    t.rule(track, { type: 'accept', matchForwardFlow: true });
    vm1.inboundFilterId = track.id;
    const sim = new Sim(t.build());
    assert.equal(sim.send(vm2, tcp(to1, 5555, 80)).action, 'drop', 'vm2 cannot open a connection to vm1');
    const fwd = sim.send(vm1, tcp(to2, 40000, 80));
    assert.equal(fwd.action, 'forward');
    assert.ok(fwd.stateKeys.length > 0, 'the return key is recorded for replication');
    const reply = sim.send(vm2, tcp(to1, 80, 40000, 0x12));
    assert.equal(reply.action, 'forward', 'the reply is a return flow');
    assert.ok(reply.tags.some((x) => fwd.stateKeys.includes(x)), 'tagged with the conntrack key it used');
    sim.now += 61_000;
    assert.equal(sim.send(vm2, tcp(to1, 80, 40000, 0x12)).action, 'drop', 'conntrack keys expire after 60 s');
  });
});
