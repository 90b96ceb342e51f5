/**
 * Forwarding on one host, side by side on the same veths (gen -> DUT -> sink namespaces):
 *   (a) a minimal C forwarder on the agent's I/O path (AF_PACKET, recvmmsg/sendmmsg batches of 64)
 *   (b) the Linux bridge
 *   (c) our agent, every packet a flow hit (one 5-tuple)
 *   (d) our agent, every packet a new flow (new source port each frame: simulation per packet)
 *   (e) first-packet vs cached round trip through the agent (ping), and through the Linux bridge
 * Every figure is the median of 3 samples taken in the run. The C tools (bench/c/pkt.c) are
 * compiled with `cc` here. Prints JSON lines; (c) carries (a) as
 * its baseline. Needs root (network namespaces).
 *
 *   npm run bench:datapath -- [--seconds 3]
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Lab, nsExec, plug, tunnelZone, type LabHost, type LabVm } from '../test/helpers/lab.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);

function emit(scenario: string, metric: string, value: number, unit: string, extra: Record<string, number> = {}): void {
  console.log(JSON.stringify({ bench: 'datapath', scenario, metric, value: Math.round(value * 100) / 100, unit, ...extra }));
}

/** Runs a command in a namespace in the background; resolves with its stdout. */
function bgExec(ns: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')}: ${err}`))));
  });
}

/**
 * Frames per second arriving at the sink while the generator blasts through the DUT. The
 * generator and sink share CPU 0; the forwarder under test gets CPU 1 to itself.
 */
async function throughput(pkt: string, gen: LabVm, sink: LabVm, vary: boolean, extra?: () => Promise<unknown>): Promise<number> {
  const counted = bgExec(sink.ns, ['taskset', '-c', '0', pkt, 'sink', 'eth0', String(SECONDS + 1)]);
  await new Promise((r) => setTimeout(r, 300));
  const [, , received] = await Promise.all([extra?.(), bgExec(gen.ns, ['taskset', '-c', '0', pkt, 'gen', 'eth0', String(SECONDS), vary ? '1' : '0']), counted]);
  return Number(received.trim()) / SECONDS;
}

/** Round trips of 6 pings: the first (new flows both ways) and the best of the rest (cached). */
async function rtts(from: LabVm): Promise<{ first: number; cached: number }> {
  const r = await nsExec(from.ns, ['ping', '-c', '6', '-i', '0.2', '10.77.0.2']);
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < 2) throw new Error(`ping failed: ${r.stdout}${r.stderr}`);
  return { first: times[0]!, cached: Math.min(...times.slice(1)) };
}

/** These machines are noisy: every figure is the median of REPEAT samples taken in this run. */
const REPEAT = 3;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
async function sampled(take: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < REPEAT; i++) xs.push(await take());
  return median(xs);
}

/** First-packet and cached round trips, each the median over REPEAT ping runs (each run new flows). */
async function medianRtts(from: LabVm): Promise<{ first: number; cached: number }> {
  const runs: { first: number; cached: number }[] = [];
  for (let i = 0; i < REPEAT; i++) runs.push(await rtts(from));
  return { first: median(runs.map((r) => r.first)), cached: median(runs.map((r) => r.cached)) };
}

async function main(): Promise<void> {
  const pkt = join(await (async () => (await run('mktemp', ['-d'])).stdout.trim())(), 'pkt');
  await run('cc', ['-O2', '-o', pkt, fileURLToPath(new URL('./c/pkt.c', import.meta.url))]);
  const lab = await Lab.create();
  try {
    const dut: LabHost = await lab.addHost('dut');
    await tunnelZone(lab);
    const gen = await lab.addVm(dut, { mac: '02:00:00:00:77:01', cidr: '10.77.0.1/24' });
    const sink = await lab.addVm(dut, { mac: '02:00:00:00:77:02', cidr: '10.77.0.2/24' });
    // Static neighbours: the round trips measure forwarding, not ARP.
    await nsExec(gen.ns, ['ip', 'neigh', 'replace', '10.77.0.2', 'lladdr', sink.mac, 'dev', 'eth0']);
    await nsExec(sink.ns, ['ip', 'neigh', 'replace', '10.77.0.1', 'lladdr', gen.mac, 'dev', 'eth0']);

    // (a) the C forwarder, gen side -> sink side.
    const a = await sampled(() => throughput(pkt, gen, sink, false, () => bgExec(dut.ns, ['taskset', '-c', '1', pkt, 'fwd', gen.ifname, sink.ifname, String(SECONDS + 0.5)])));
    emit('a_c_forwarder', 'pps', a, 'frames/s');

    // (b) the Linux bridge between the same two veths.
    await nsExec(dut.ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await nsExec(dut.ns, ['ip', 'link', 'set', 'br0', 'up']);
    for (const i of [gen.ifname, sink.ifname]) await nsExec(dut.ns, ['ip', 'link', 'set', i, 'master', 'br0']);
    const b = await sampled(() => throughput(pkt, gen, sink, false));
    emit('b_linux_bridge', 'pps', b, 'frames/s', { baseline: Math.round(a), ratio: Math.round((b / a) * 100) / 100 });
    const linux = await medianRtts(gen);
    emit('e_linux_bridge', 'first_packet_rtt', linux.first, 'ms');
    emit('e_linux_bridge', 'cached_rtt', linux.cached, 'ms');
    for (const i of [gen.ifname, sink.ifname]) await nsExec(dut.ns, ['ip', 'link', 'set', i, 'nomaster']);
    await nsExec(dut.ns, ['ip', 'link', 'del', 'br0']);

    // (c)-(e) our agent (all its threads on CPU 1): one virtual bridge, the two veths bound to its ports.
    await run('taskset', ['-a', '-c', '-p', '1', String(dut.agent.pid)]);
    const net = await lab.create('/bridges', { name: 'bench' });
    await plug(lab, net, dut, gen);
    await plug(lab, net, dut, sink);
    const cold = await rtts(gen);
    // Further ping processes are new flows (new ICMP ids) through warmed-up code.
    const ours = await medianRtts(gen);
    emit('e_agent', 'first_packet_rtt_cold_start', cold.first, 'ms');
    const c = await sampled(() => throughput(pkt, gen, sink, false));
    emit('c_agent_flow_hit', 'pps', c, 'frames/s', { baseline: Math.round(a), ratio: Math.round((c / a) * 100) / 100 });
    const d = await sampled(() => throughput(pkt, gen, sink, true));
    emit('d_agent_new_flows', 'new_flows_per_s', d, 'flows/s');
    emit('e_agent', 'first_packet_rtt', ours.first, 'ms');
    emit('e_agent', 'cached_rtt', ours.cached, 'ms');
  } finally {
    await lab.destroy();
  }
}

await main();
