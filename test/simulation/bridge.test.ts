import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromString } from '../../src/packets/bytes.ts';
import { ipToInt } from '../../src/model/net.ts';
import { F } from '../../src/simulation/flow-match.ts';
import { Sim, TopoBuilder, udp } from '../helpers/topology.ts';
import { ETH_ARP } from '../../src/packets/types.ts';

function l2() {
  const t = new TopoBuilder();
  const b = t.bridge('b');
  const [p1, p2, p3] = [t.bridgePort(b), t.bridgePort(b), t.bridgePort(b)];
  const mac = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b', c: '02:00:00:00:00:0c' };
  return { t, b, p1, p2, p3, mac };
}

describe('bridge', () => {
  it('floods unknown destinations to exterior ports but the ingress, then learns and unicasts', () => {
    const { t, p1, p2, p3, mac } = l2();
    const sim = new Sim(t.build());
    const first = sim.send(p1, udp({ srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1000, 2000));
    assert.equal(first.action, 'forward');
    assert.deepEqual(first.outputs.map((o) => o.portId).sort(), [p2.id, p3.id].sort());
    const back = sim.send(p2, udp({ srcMac: mac.b, dstMac: mac.a, src: '10.0.0.2', dst: '10.0.0.1' }, 2000, 1000));
    assert.deepEqual(back.outputs.map((o) => o.portId), [p1.id]);
    assert.ok(back.tags.some((x) => x.startsWith('mac:')), 'tagged with the MAC entry it used');
    assert.ok((back.seen & F.EthDst) !== 0);
    assert.equal(back.seen & F.IpSrc, 0, 'an L2 flow does not match on IP addresses');
    assert.deepEqual(back.outputs[0]!.rewrites, {});
  });

  it('drops a frame whose destination sits behind the ingress port (hairpin)', () => {
    const { t, p1, mac } = l2();
    const sim = new Sim(t.build());
    sim.send(p1, udp({ srcMac: mac.b, dstMac: mac.c, src: '10.0.0.2', dst: '10.0.0.3' }, 1, 2));
    const r = sim.send(p1, udp({ srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1, 2));
    assert.equal(r.action, 'drop');
    assert.match(r.reason, /ingress port/);
  });

  it('expires learned MACs and follows a MAC that moves', () => {
    const { t, p1, p2, p3, mac } = l2();
    const sim = new Sim(t.build());
    sim.send(p1, udp({ srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1, 2));
    assert.deepEqual(sim.send(p2, udp({ srcMac: mac.b, dstMac: mac.a, src: '10.0.0.2', dst: '10.0.0.1' }, 2, 1)).outputs.map((o) => o.portId), [p1.id]);
    sim.send(p3, udp({ srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1, 2));
    assert.deepEqual(sim.send(p2, udp({ srcMac: mac.b, dstMac: mac.a, src: '10.0.0.2', dst: '10.0.0.1' }, 2, 1)).outputs.map((o) => o.portId), [p3.id]);
    assert.equal(sim.state.counters.get('mac_moves'), 1);
    sim.now += 16_000;
    assert.equal(sim.send(p2, udp({ srcMac: mac.b, dstMac: mac.a, src: '10.0.0.2', dst: '10.0.0.1' }, 2, 1)).outputs.length, 2, 'expired: flood');
  });

  it('answers ARP from its ARP table and floods ARP it cannot answer', () => {
    const { t, b, p1, mac } = l2();
    t.arpEntry(b, '10.0.0.9', '02:00:00:00:00:99');
    const sim = new Sim(t.build());
    const arp = (tpa: string) => ({
      dst: 0xffffffffffff, src: macFromString(mac.a), vlans: [], etherType: ETH_ARP,
      payload: { kind: 'arp' as const, op: 1, sha: macFromString(mac.a), spa: ipToInt('10.0.0.1'), tha: 0, tpa: ipToInt(tpa) },
    });
    const r = sim.send(p1, arp('10.0.0.9'));
    assert.equal(r.action, 'consume');
    assert.equal(r.generated.length, 1);
    assert.equal(r.generated[0]!.egressPort, p1.id);
    const reply = r.generated[0]!.frame.payload;
    assert.ok(reply.kind === 'arp' && reply.op === 2 && reply.sha === macFromString('02:00:00:00:00:99') && reply.tpa === ipToInt('10.0.0.1'));
    assert.equal(sim.send(p1, arp('10.0.0.77')).outputs.length, 2);
  });

  it('drops multicast sources, and everything while the bridge or port is down', () => {
    const { t, b, p1, p2, mac } = l2();
    assert.equal(new Sim(t.build()).send(p1, udp({ srcMac: '01:00:5e:00:00:01', dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1, 2)).action, 'drop');
    p2.adminStateUp = false;
    const sim = new Sim(t.build());
    assert.equal(sim.send(p2, udp({ srcMac: mac.b, dstMac: mac.a, src: '10.0.0.2', dst: '10.0.0.1' }, 1, 2)).action, 'drop');
    b.adminStateUp = false;
    assert.equal(new Sim(t.build()).send(p1, udp({ srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' }, 1, 2)).action, 'drop');
  });

  it('applies the bridge and port chains', () => {
    const { t, b, p1, p2, mac } = l2();
    const c = t.chain('in');
    t.rule(c, { type: 'drop', nwProto: 17, tpDst: { start: 53, end: 53 }, fragmentPolicy: 'header' });
    b.inboundFilterId = c.id;
    const out = t.chain('port-out');
    t.rule(out, { type: 'drop', nwSrcAddress: '10.0.0.66', nwSrcLength: 32 });
    p2.outboundFilterId = out.id;
    const sim = new Sim(t.build());
    const spec = { srcMac: mac.a, dstMac: mac.b, src: '10.0.0.1', dst: '10.0.0.2' };
    assert.equal(sim.send(p1, udp(spec, 999, 53)).action, 'drop');
    assert.equal(sim.send(p1, udp(spec, 999, 54)).action, 'forward');
    const r = sim.send(p1, udp({ ...spec, src: '10.0.0.66' }, 999, 54));
    assert.deepEqual(r.outputs.map((o) => o.portId).includes(p2.id), false, 'p2 drops it, other ports still get it');
  });
});
