/**
 * Simulations per second on one core, new flow every packet:
 *   (a) same-bridge L2, (b) bridge-router-bridge, (c) (b) with 100-rule chains in and out of the
 *   router plus dynamic SNAT; then the cost of finding a cached result instead of simulating.
 * `--only a|b|c` runs one scenario (for profiling). Prints JSON lines; (c) carries the 100k/s target as baseline (MidoNet's harness: 20-30k/s).
 *
 *   npm run bench:simulation -- [--seconds 2] [--only a|b|c|cached]
 * Runs with a 64 MiB young generation (--max-semi-space-size=64), as the agent does: each new
 * flow allocates its state and a small nursery spends ~10% of the time in scavenges.
 */
import { parseArgs } from 'node:util';
import { macFromString } from '../src/packets/bytes.ts';
import { buildEthernet, parseEthernet } from '../src/packets/ethernet.ts';
import { ipToInt } from '../src/model/net.ts';
import { ExactMatchCache } from '../src/agent/exact-match-cache.ts';
import type { FlowMatch } from '../src/simulation/flow-match.ts';
import { matchOf } from '../src/simulation/packet-match.ts';
import { simulate, type SimResult } from '../src/simulation/simulator.ts';
import { SimState } from '../src/simulation/state.ts';
import { Sim, udp } from '../test/helpers/topology.ts';
import { twoTier, type TwoTier } from '../test/helpers/two-tier.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' }, only: { type: 'string' } } });
const only = (s: string) => !values.only || s.startsWith(values.only);
const SECONDS = Number(values.seconds);
const TARGET = 100_000;

function emit(bench: string, metric: string, value: number, unit: string, extra: Record<string, number> = {}): void {
  console.log(JSON.stringify({ bench: 'simulation', scenario: bench, metric, value: Math.round(value * 100) / 100, unit, ...extra }));
}

/** Runs `step` (which makes one new flow per call) for SECONDS after a short warm-up. */
function rate(step: (i: number) => SimResult, expect: SimResult['action']): number {
  for (let i = 0; i < 20_000; i++) step(i);
  const check = step(1_000_000);
  if (check.action !== expect) throw new Error(`bench scenario broken: ${check.action} ${check.reason}`);
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let i = 2_000_000;
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) step(i++);
    n += 1000;
  }
  return n / ((performance.now() - start) / 1000);
}

function newFlow(base: FlowMatch, i: number): FlowMatch {
  const m = base.clone();
  m.srcPort = 1024 + (i % 60000);
  m.ipSrc = (base.ipSrc + Math.floor(i / 60000)) >>> 0;
  return m;
}

function baseMatch(n: TwoTier, dst: string, dstMac: string, inPort: string): FlowMatch {
  const parsed = parseEthernet(buildEthernet(udp({ srcMac: n.mac.vm1, dstMac, src: '10.0.0.5', dst }, 1024, 53)));
  if (!parsed.ok) throw new Error(parsed.reason);
  return matchOf(parsed.value, inPort);
}

function scenario(withChains: boolean) {
  const n = twoTier();
  if (withChains) {
    // 100 rules that every packet must test and none matches, before the rules that act.
    const pre = n.t.chain('pre');
    const post = n.t.chain('post');
    for (let i = 0; i < 100; i++) {
      n.t.rule(pre, { type: 'drop', nwProto: 6, tpDst: { start: 1000 + i, end: 1000 + i }, fragmentPolicy: 'header', nwSrcAddress: `192.168.${i}.0`, nwSrcLength: 24 });
      n.t.rule(post, { type: 'drop', nwDstAddress: `203.0.${i}.0`, nwDstLength: 24, nwProto: 17 });
    }
    n.t.rule(pre, { type: 'rev_snat', flowAction: 'accept', nwDstAddress: '10.0.200.0', nwDstLength: 24 });
    n.t.rule(post, { type: 'snat', flowAction: 'accept', outPorts: [n.rp2.id], natTargets: [{ addressFrom: '10.0.200.0', addressTo: '10.0.200.255', portFrom: 1024, portTo: 65535 }], fragmentPolicy: 'unfragmented' });
    n.r.inboundFilterId = pre.id;
    n.r.outboundFilterId = post.id;
  }
  const sim = new Sim(n.t.build());
  sim.state.arp.learn(n.r.id, ipToInt('10.0.1.5'), macFromString(n.mac.vm3), sim.now);
  return { n, sim };
}

function main(): void {
  // (a) L2 on one bridge: vm1 -> vm2 with vm2's MAC learned.
  if (only('a')) {
    const { n, sim } = scenario(false);
    sim.send(n.vm2, udp({ srcMac: n.mac.vm2, dstMac: n.mac.vm1, src: '10.0.0.6', dst: '10.0.0.5' }, 1, 1));
    const base = baseMatch(n, '10.0.0.6', n.mac.vm2, n.vm1.id);
    const state = sim.state;
    emit('a_same_bridge_l2', 'simulations_per_s', rate((i) => simulate(sim.topology, state, newFlow(base, i), null, { now: sim.now }), 'forward'), 'sim/s');
  }
  // (b) bridge -> router -> bridge.
  if (only('b')) {
    const { n, sim } = scenario(false);
    const base = baseMatch(n, '10.0.1.5', n.mac.rp1, n.vm1.id);
    emit('b_bridge_router_bridge', 'simulations_per_s', rate((i) => simulate(sim.topology, sim.state, newFlow(base, i), null, { now: sim.now }), 'forward'), 'sim/s');
  }
  // (c) (b) with 100-rule chains each way and dynamic SNAT. Three rounds, each from empty NAT
  // and conntrack tables (they grow by one flow per packet), reported as their median.
  let cachedBase: FlowMatch;
  let cResult: SimResult;
  if (only('c')) {
    const { n, sim } = scenario(true);
    const base = baseMatch(n, '10.0.1.5', n.mac.rp1, n.vm1.id);
    cachedBase = base;
    const rounds: number[] = [];
    let state = new SimState();
    for (let round = 0; round < 3; round++) {
      state = new SimState();
      state.arp.learn(n.r.id, ipToInt('10.0.1.5'), macFromString(n.mac.vm3), sim.now);
      const s = state;
      rounds.push(rate((i) => simulate(sim.topology, s, newFlow(base, i), null, { now: sim.now }), 'forward'));
    }
    const r = [...rounds].sort((x, y) => x - y)[1]!;
    emit('c_chains_100_and_snat', 'simulations_per_s', r, 'sim/s', { baseline: TARGET, ratio: Math.round((r / TARGET) * 100) / 100, min: Math.round(Math.min(...rounds)), max: Math.round(Math.max(...rounds)) });
    cResult = simulate(sim.topology, state, newFlow(base, 7), null, { now: sim.now });
    emit('c_chains_100_and_snat', 'nat_bindings_at_end', state.nat.size / 2, 'flows');
  }
  // The exact-match cache in front of the simulation, holding 100k flows: a hit instead of a simulation.
  if (only('cached') && cachedBase! && cResult!) {
    const cache = new ExactMatchCache<SimResult>();
    const flows = Array.from({ length: 100_000 }, (_, i) => newFlow(cachedBase!, i));
    for (const f of flows) cache.set(f.clone(), cResult!);
    let hits = 0;
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < SECONDS * 1000) {
      for (let k = 0; k < 10_000; k++) if (cache.get(flows[(n + k) % flows.length]!)) hits++;
      n += 10_000;
    }
    const perS = n / ((performance.now() - start) / 1000);
    if (hits !== n) throw new Error('cache misses in the cache bench');
    emit('cached_lookup', 'lookups_per_s', perS, 'lookup/s');
    emit('cached_lookup', 'ns_per_lookup', 1e9 / perS, 'ns');
  }
}

main();
