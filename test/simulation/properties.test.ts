import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { intToIp, ipToInt } from '../../src/model/net.ts';
import { newRule } from '../../src/model/defaults.ts';
import { macFromString } from '../../src/packets/bytes.ts';
import { buildEthernet, parseEthernet } from '../../src/packets/ethernet.ts';
import { compileRule, conditionMatches } from '../../src/simulation/condition.ts';
import { PacketContext } from '../../src/simulation/context.ts';
import { FlowMatch, Frag } from '../../src/simulation/flow-match.ts';
import { matchOf } from '../../src/simulation/packet-match.ts';
import { maskOf } from '../../src/model/net.ts';
import { RoutingTable, type SimRoute } from '../../src/simulation/routing-table.ts';
import { simulate } from '../../src/simulation/simulator.ts';
import { NatLeaser, SimState } from '../../src/simulation/state.ts';
import { ethernetOf, mac, u32 } from '../helpers/arbitraries.ts';
import { twoTier } from '../helpers/two-tier.ts';


describe('simulation properties', () => {
  it('longest-prefix match agrees with a brute-force oracle', () => {
    const route = fc.record({ dst: u32, dstLen: fc.integer({ min: 0, max: 32 }), src: u32, srcLen: fc.integer({ min: 0, max: 32 }), weight: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(route, { maxLength: 40 }), fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 20 }), (rs, probes) => {
        const routes: SimRoute[] = rs.map((r, i) => ({ ...r, id: String(i), kind: 'Normal', portId: 'p', gateway: 0 }));
        const table = new RoutingTable(routes);
        for (const [src, dst] of probes) {
          const matching = routes.filter((r) => ((dst & maskOf(r.dstLen)) >>> 0) === ((r.dst & maskOf(r.dstLen)) >>> 0) && ((src & maskOf(r.srcLen)) >>> 0) === ((r.src & maskOf(r.srcLen)) >>> 0));
          const longest = Math.max(-1, ...matching.map((r) => r.dstLen));
          const atLongest = matching.filter((r) => r.dstLen === longest);
          const lightest = Math.min(...atLongest.map((r) => r.weight));
          const expected = atLongest.filter((r) => r.weight === lightest).map((r) => r.id).sort();
          assert.deepEqual(table.candidates(src, dst).map((r) => r.id).sort(), expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('compiled rule conditions agree with a naive evaluator', () => {
    const cond = fc.record({
      nwProto: fc.option(fc.constantFrom(1, 6, 17), { nil: null }), invNwProto: fc.boolean(),
      nwSrc: fc.option(fc.tuple(u32, fc.integer({ min: 0, max: 32 })), { nil: null }), invNwSrc: fc.boolean(),
      nwDst: fc.option(fc.tuple(u32, fc.integer({ min: 0, max: 32 })), { nil: null }), invNwDst: fc.boolean(),
      tpDst: fc.option(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })).map(([a, b]) => ({ start: Math.min(a, b), end: Math.max(a, b) })), { nil: null }),
      invTpDst: fc.boolean(),
      dlType: fc.option(fc.constantFrom(0x0800, 0x0806), { nil: null }), invDlType: fc.boolean(),
      condInvert: fc.boolean(),
      fragmentPolicy: fc.constantFrom('any', 'header', 'nonheader', 'unfragmented' as const),
    });
    const packet = fc.record({ etherType: fc.constantFrom(0x0800, 0x0806), ipProto: fc.constantFrom(1, 6, 17), ipSrc: u32, ipDst: u32, dstPort: fc.integer({ min: 0, max: 100 }), frag: fc.constantFrom(Frag.None, Frag.First, Frag.Later) });
    const state = new SimState();
    fc.assert(
      fc.property(cond, packet, (c, p) => {
        const rule = newRule('r', 'c', {
          type: 'accept', nwProto: c.nwProto, invNwProto: c.invNwProto, tpDst: c.tpDst, invTpDst: c.invTpDst, dlType: c.dlType, invDlType: c.invDlType, condInvert: c.condInvert,
          nwSrcAddress: c.nwSrc ? intToIp(c.nwSrc[0]) : null, nwSrcLength: c.nwSrc?.[1] ?? null, invNwSrc: c.invNwSrc,
          nwDstAddress: c.nwDst ? intToIp(c.nwDst[0]) : null, nwDstLength: c.nwDst?.[1] ?? null, invNwDst: c.invNwDst,
          fragmentPolicy: c.fragmentPolicy,
        });
        const m = new FlowMatch();
        Object.assign(m, { etherType: p.etherType, ipProto: p.ipProto, ipSrc: p.ipSrc, ipDst: p.ipDst, dstPort: p.dstPort, ipFrag: p.frag });
        const ctx = new PacketContext(null as never, state, 0, m, null, false, false);
        const ip = p.etherType === 0x0800;
        // ARP sender and target addresses count as network source and destination (MidoNet's match).
        const addressed = ip || p.etherType === 0x0806;
        const inPrefix = (v: number, x: [number, number]) => ((v & maskOf(x[1])) >>> 0) === ((x[0] & maskOf(x[1])) >>> 0);
        const tests: boolean[] = [];
        if (c.nwProto !== null) tests.push((ip && p.ipProto === c.nwProto) !== c.invNwProto);
        if (c.nwSrc) tests.push((addressed && inPrefix(p.ipSrc, c.nwSrc)) !== c.invNwSrc);
        if (c.nwDst) tests.push((addressed && inPrefix(p.ipDst, c.nwDst)) !== c.invNwDst);
        if (c.tpDst) tests.push((ip && p.frag !== Frag.Later && p.dstPort >= c.tpDst.start && p.dstPort <= c.tpDst.end) !== c.invTpDst);
        if (c.dlType !== null) tests.push((p.etherType === c.dlType) !== c.invDlType);
        const f = ip ? p.frag : Frag.None;
        if (c.fragmentPolicy === 'header') tests.push(f !== Frag.Later);
        if (c.fragmentPolicy === 'nonheader') tests.push(f === Frag.Later);
        if (c.fragmentPolicy === 'unfragmented') tests.push(f === Frag.None);
        const expected = tests.every(Boolean) !== c.condInvert;
        assert.equal(conditionMatches(ctx, compileRule(rule)), expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('NAT leasing never gives one (ip, port) to two live flows, and reuses released ones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(50)), { maxLength: 400 }), fc.integer({ min: 1, max: 3 }), (ops, ips) => {
        const leaser = new NatLeaser();
        const live: { ip: number; port: number }[] = [];
        const total = ips * 200;
        for (const [release, pick] of ops) {
          if (release && live.length > 0) {
            const [b] = live.splice(pick % live.length, 1);
            leaser.release('dev', b!.ip, b!.port);
            continue;
          }
          const b = leaser.allocate('dev', 100, 100 + ips - 1, 1000, 1199, pick);
          if (live.length >= total) {
            assert.equal(b, null, 'full: nothing left');
            continue;
          }
          assert.ok(b, `a port is free (${live.length} of ${total} used)`);
          assert.ok(!live.some((x) => x.ip === b.ip && x.port === b.port), `(${b.ip}, ${b.port}) handed out twice`);
          assert.ok(b.port >= 1000 && b.port <= 1199 && b.ip >= 100 && b.ip < 100 + ips);
          live.push(b);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('random and truncated frames through parse + simulate: nothing escapes', () => {
    const n = twoTier();
    const topo = n.t.build();
    const state = new SimState();
    const ports = [n.vm1.id, n.vm2.id, n.vm3.id, n.uplink.id];
    // Addresses this topology knows, so that frames get past the MAC checks into routing, NAT, DHCP.
    const hw = fc.oneof(fc.constantFrom(...Object.values(n.mac).map(macFromString), 0xffffffffffff), mac);
    const addr = fc.oneof(fc.constantFrom(...['10.0.0.5', '10.0.0.1', '10.0.1.5', '10.0.1.1', '172.16.0.1', '172.16.0.254', '8.8.8.8', '255.255.255.255'].map(ipToInt)), u32);
    fc.assert(
      fc.property(ethernetOf(hw, addr), fc.constantFrom(...ports), fc.option(fc.nat(), { nil: undefined }), (e, port, cut) => {
        const bytes = buildEthernet(e);
        const parsed = parseEthernet(cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1)));
        if (!parsed.ok) return;
        const res = simulate(topo, state, matchOf(parsed.value, port), parsed.value, { now: 1 });
        assert.ok(!res.reason.startsWith('simulation error'), res.reason);
        for (const g of res.generated) simulate(topo, state, matchOf(g.frame, g.egressPort), g.frame, { now: 1 });
      }),
      { numRuns: 5000 },
    );
    assert.equal(state.counters.get('simulation_errors') ?? 0, 0);
  });
});
