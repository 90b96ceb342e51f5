import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromString } from '../../src/packets/bytes.ts';
import { ipToInt } from '../../src/model/net.ts';
import { ETH_ARP } from '../../src/packets/types.ts';
import { Sim, ping, TopoBuilder, udp } from '../helpers/topology.ts';
import { twoTier } from '../helpers/two-tier.ts';

describe('router', () => {
  it('routes bridge to bridge: ARP through the peer bridge, then rewrites MACs and TTL', () => {
    const n = twoTier();
    const sim = new Sim(n.t.build());
    const pkt = udp(n.fromVm1('10.0.1.5'), 5000, 53);
    const first = sim.send(n.vm1, pkt);
    assert.equal(first.action, 'parked', 'waits for the next hop MAC');
    const arpReq = first.generated[0]!;
    assert.equal(arpReq.egressPort, n.rp2.id);
    // The router's ARP request crosses into bridge 2, whose ARP table answers it back to the router.
    const asked = sim.emit(arpReq.egressPort, arpReq.frame);
    assert.equal(asked.action, 'consume');
    const answer = asked.generated[0]!;
    assert.equal(sim.emit(answer.egressPort, answer.frame).action, 'consume', 'the router learns the reply');
    const r = sim.send(n.vm1, pkt);
    assert.equal(r.action, 'forward');
    assert.deepEqual(r.outputs.map((o) => o.portId), [n.vm3.id]);
    assert.deepEqual(r.outputs[0]!.rewrites, { ethSrc: macFromString(n.mac.rp2), ethDst: macFromString(n.mac.vm3), ipTtl: 63 });
    assert.ok(r.tags.includes(`d:${n.r.id}`) && r.tags.includes(`d:${n.b2.id}`));
    assert.ok(r.tags.some((t) => t.startsWith('arp:')));
  });

  it('parks while it asks for a MAC: retries every 10 s, gives up after 60 s with host unreachable', () => {
    const n = twoTier();
    const sim = new Sim(n.t.build());
    const pkt = udp(n.fromVm1('172.16.0.77'), 5000, 53);
    const first = sim.send(n.vm1, pkt);
    assert.equal(first.action, 'parked');
    assert.equal(first.generated.length, 1, 'an ARP request goes out');
    sim.now += 5_000;
    assert.equal(sim.send(n.vm1, pkt).generated.length, 0, 'no second request before the retry interval');
    sim.now += 5_000;
    const retry = sim.send(n.vm1, pkt);
    assert.equal(retry.action, 'parked');
    assert.equal(retry.generated.length, 1, 'asks again after 10 s');
    sim.now += 50_000;
    const gone = sim.send(n.vm1, pkt);
    assert.equal(gone.action, 'drop');
    const f = gone.generated[0]!.frame.payload;
    assert.ok(f.kind === 'ipv4' && f.payload.kind === 'icmp' && f.payload.type === 3 && f.payload.code === 1);
  });

  it('answers ARP and ping for its own addresses', () => {
    const n = twoTier();
    const sim = new Sim(n.t.build());
    const arp = sim.send(n.vm1, {
      dst: 0xffffffffffff, src: macFromString(n.mac.vm1), vlans: [], etherType: ETH_ARP,
      payload: { kind: 'arp', op: 1, sha: macFromString(n.mac.vm1), spa: ipToInt('10.0.0.5'), tha: 0, tpa: ipToInt('10.0.0.1') },
    });
    // The bridge answers for its router port (MidoNet's bridge knows its peers' addresses).
    assert.equal(arp.action, 'consume');
    const reply = arp.generated[0]!.frame.payload;
    assert.ok(reply.kind === 'arp' && reply.sha === macFromString(n.mac.rp1));
    const echo = sim.send(n.vm1, ping(n.fromVm1('10.0.1.1'), 42, 3));
    assert.equal(echo.action, 'consume');
    const e = echo.generated[0]!;
    assert.equal(e.egressPort, n.rp1.id);
    const ip = e.frame.payload;
    assert.ok(ip.kind === 'ipv4' && ip.src === ipToInt('10.0.1.1') && ip.dst === ipToInt('10.0.0.5'));
    assert.ok(ip.kind === 'ipv4' && ip.payload.kind === 'icmp' && ip.payload.type === 0 && ip.payload.rest === ((42 << 16) | 3));
    // ... and the reply reaches vm1 through the bridge.
    const delivered = sim.emit(e.egressPort, e.frame);
    assert.deepEqual(delivered.outputs.map((o) => o.portId), [n.vm1.id]);
  });

  it('answers no route, TTL expiry and reject routes with ICMP; blackholes silently', () => {
    const t = new TopoBuilder();
    const r = t.router();
    const p = t.routerPort(r, '10.0.0.1/24', '02:00:00:00:00:01');
    const out = t.routerPort(r, '10.9.0.1/24');
    t.route(r, { dst: '10.0.0.0/24', port: p });
    t.route(r, { dst: '10.9.0.0/16', port: out });
    t.route(r, { dst: '192.0.2.0/24', type: 'Reject' });
    t.route(r, { dst: '198.51.100.0/24', type: 'BlackHole' });
    const sim = new Sim(t.build());
    const spec = (dst: string, ttl = 64) => ({ srcMac: '02:aa:00:00:00:05', dstMac: '02:00:00:00:00:01', src: '10.0.0.5', dst, ttl });
    const icmp = (res: ReturnType<Sim['send']>) => {
      const f = res.generated[0]?.frame.payload;
      return f?.kind === 'ipv4' && f.payload.kind === 'icmp' ? [f.payload.type, f.payload.code] : null;
    };
    const noRoute = sim.send(p, udp(spec('203.0.113.1'), 1, 2));
    assert.equal(noRoute.action, 'drop');
    assert.deepEqual(icmp(noRoute), [3, 0]);
    assert.deepEqual(icmp(sim.send(p, udp(spec('10.9.0.7', 1), 1, 2))), [11, 0]);
    const rej = sim.send(p, udp(spec('192.0.2.1'), 1, 2));
    assert.deepEqual(icmp(rej), [3, 13]);
    const quoted = rej.generated[0]!.frame.payload;
    assert.ok(quoted.kind === 'ipv4' && quoted.payload.kind === 'icmp' && quoted.payload.data.length === 28, 'quotes header + 8 bytes');
    const bh = sim.send(p, udp(spec('198.51.100.1'), 1, 2));
    assert.equal(bh.action, 'drop');
    assert.equal(bh.generated.length, 0);
    assert.equal(sim.send(p, udp({ ...spec('10.9.0.7'), dstMac: '02:00:00:00:00:99' }, 1, 2)).action, 'drop', 'not the port MAC');
  });

  it('prefers the longest prefix, then the lowest weight, and spreads equal routes (ECMP) per flow', () => {
    const t = new TopoBuilder();
    const r = t.router();
    const inp = t.routerPort(r, '10.0.0.1/24', '02:00:00:00:00:01');
    const [a, b, c] = [t.routerPort(r, '10.1.0.1/24'), t.routerPort(r, '10.2.0.1/24'), t.routerPort(r, '10.3.0.1/24')];
    t.route(r, { dst: '0.0.0.0/0', port: a, gw: '10.1.0.254', weight: 10 });
    t.route(r, { dst: '0.0.0.0/0', port: b, gw: '10.2.0.254', weight: 10 });
    t.route(r, { dst: '0.0.0.0/0', port: c, gw: '10.3.0.254', weight: 20 });
    t.route(r, { dst: '203.0.113.0/24', port: c, gw: '10.3.0.254', weight: 50 });
    const sim = new Sim(t.build());
    for (const gw of ['10.1.0.254', '10.2.0.254', '10.3.0.254']) sim.state.arp.learn(r.id, ipToInt(gw), 0x020000000099, sim.now);
    const used = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const res = sim.send(inp, udp({ srcMac: '02:aa:00:00:00:05', dstMac: '02:00:00:00:00:01', src: '10.0.0.5', dst: '8.8.8.8' }, 1000 + i, 53));
      const port = res.outputs[0]!.portId;
      used.set(port, (used.get(port) ?? 0) + 1);
      const again = sim.send(inp, udp({ srcMac: '02:aa:00:00:00:05', dstMac: '02:00:00:00:00:01', src: '10.0.0.5', dst: '8.8.8.8' }, 1000 + i, 53));
      assert.equal(again.outputs[0]!.portId, port, 'a flow stays on its path');
    }
    assert.equal(used.get(c.id), undefined, 'the heavier route is not used');
    assert.ok(used.get(a.id)! > 120 && used.get(b.id)! > 120, `spread ${[...used.values()]}`);
    const longer = sim.send(inp, udp({ srcMac: '02:aa:00:00:00:05', dstMac: '02:00:00:00:00:01', src: '10.0.0.5', dst: '203.0.113.9' }, 1, 2));
    assert.equal(longer.outputs[0]!.portId, c.id);
  });

  it('stops a routing loop after 12 devices', () => {
    const t = new TopoBuilder();
    const r1 = t.router('r1');
    const r2 = t.router('r2');
    const inp = t.routerPort(r1, '10.0.0.1/24', '02:00:00:00:00:01');
    const a = t.routerPort(r1, '169.254.0.1/30');
    const b = t.routerPort(r2, '169.254.0.2/30');
    t.link(a, b);
    t.route(r1, { dst: '0.0.0.0/0', port: a });
    t.route(r2, { dst: '0.0.0.0/0', port: b });
    const sim = new Sim(t.build());
    const res = sim.send(inp, udp({ srcMac: '02:aa:00:00:00:05', dstMac: '02:00:00:00:00:01', src: '10.0.0.5', dst: '8.8.8.8' }, 1, 2));
    assert.equal(res.action, 'drop');
    assert.match(res.reason, /12 devices/);
    assert.equal(sim.state.counters.get('loop_drops'), 1);
  });

  it('asks for a missing device instead of guessing', () => {
    const n = twoTier();
    const res = new Sim(n.t.build()).send('00000000-0000-0000-0000-000000000000', udp(n.fromVm1('10.0.1.5'), 1, 2));
    assert.equal(res.action, 'notYet');
    assert.deepEqual(res.missing, { type: 'Port', id: '00000000-0000-0000-0000-000000000000' });
  });
});
