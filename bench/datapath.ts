/**
 * Forwarding on one host, side by side on the same veths (gen -> DUT -> sink namespaces):
 *   (a) a minimal C forwarder on the agent's I/O path (AF_PACKET, recvmmsg/sendmmsg batches of 64)
 *   (b) the Linux bridge
 *   (c) our agent, every packet a flow hit (one 5-tuple): in userspace (fast path off), and
 *       c_agent_fast_path: through the kernel fast path (tc eBPF)
 *   (d) our agent, every packet a new flow (new source port each frame: simulation per packet)
 *   (e) first-packet vs cached round trip through the agent (ping), and through the Linux bridge
 *   (f) TCP between VMs on two hosts at default offloads: the kernel's own VXLAN devices and Linux
 *       bridges (the baseline), our agents with the fast path, our agents in userspace only
 * Every figure is the median of 3 samples taken in the run. The C tools (bench/c/pkt.c) are
 * compiled with `cc` here. Prints JSON lines; (c) carries (a) as its baseline. Frame rates carry
 * the forwarder process's CPU time per frame (utime+stime over frames forwarded) and the whole
 * machine's (the kernel fast path forwards in softirq, on no process's account). Needs root.
 *
 *   npm run bench:datapath -- [--seconds 3]
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Lab, nsExec, plug, prometheus, tunnelZone, type LabHost, type LabVm } from '../test/helpers/lab.ts';

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

/** Busy CPU time of the whole machine so far, ns (all CPUs, from /proc/stat). */
async function machineBusyNs(): Promise<number> {
  const [, ...f] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return ((total - f[3]! - f[4]!) * 1e9) / TICKS;
}

/** utime+stime of a process (and its threads) so far, ns. */
async function processNs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return ((f[11]! + f[12]!) * 1e9) / TICKS;
}
const TICKS = 100;

interface Rate {
  pps: number;
  /** The forwarding process's CPU per frame, ns (null: not measured). */
  processNsPerFrame: number | null;
  machineNsPerFrame: number;
}

/**
 * Frames per second arriving at the sink while the generator blasts through the DUT. The
 * generator and sink share CPU 0; the forwarder under test gets CPU 1 to itself. `forwarder`
 * runs beside it and resolves with its own CPU time (ns), or the pid of one to watch is given.
 */
async function throughput(pkt: string, gen: LabVm, sink: LabVm, vary: boolean, forwarder?: (() => Promise<number>) | number): Promise<Rate> {
  const counted = bgExec(sink.ns, ['taskset', '-c', '0', pkt, 'sink', 'eth0', String(SECONDS + 1)]);
  await new Promise((r) => setTimeout(r, 300));
  const [busy0, proc0] = [await machineBusyNs(), typeof forwarder === 'number' ? await processNs(forwarder) : 0];
  const [fwdNs, , received] = await Promise.all([typeof forwarder === 'function' ? forwarder() : null, bgExec(gen.ns, ['taskset', '-c', '0', pkt, 'gen', 'eth0', String(SECONDS), vary ? '1' : '0']), counted]);
  const frames = Math.max(1, Number(received.trim()));
  const busy = (await machineBusyNs()) - busy0;
  const proc = typeof forwarder === 'number' ? (await processNs(forwarder)) - proc0 : fwdNs;
  return { pps: frames / SECONDS, processNsPerFrame: proc === null ? null : proc / frames, machineNsPerFrame: busy / frames };
}

/** Runs a command in a namespace and resolves with its CPU time (ns), as bash's `times` reports children's. */
async function timed(ns: string, args: string[]): Promise<number> {
  const out = await bgExec(ns, ['bash', '-c', `${args.map((a) => `'${a}'`).join(' ')} >/dev/null; times`]);
  const [user, sys] = [...out.trim().split('\n').pop()!.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return ((user ?? 0) + (sys ?? 0)) * 1e9;
}

function emitRate(scenario: string, r: Rate, baseline?: Rate): void {
  const extra: Record<string, number> = { machine_cpu_ns_per_frame: Math.round(r.machineNsPerFrame) };
  if (r.processNsPerFrame !== null) extra.forwarder_cpu_ns_per_frame = Math.round(r.processNsPerFrame);
  if (baseline) Object.assign(extra, { baseline: Math.round(baseline.pps), ratio: Math.round((r.pps / baseline.pps) * 100) / 100 });
  emit(scenario, 'pps', r.pps, 'frames/s', extra);
}

/** Sets the fast path on or off through mn-conf and waits until the agent says it applied it. */
async function fastPath(lab: Lab, host: LabHost, on: boolean): Promise<void> {
  const r = await fetch(`${lab.api}/conf/templates/default`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `agent.datapath.fast_path = ${on}` });
  if (r.status !== 204) throw new Error(`mn-conf: ${r.status}`);
  await lab.until(async () => new RegExp(`^midonet_agent_fast_path_enabled ${on ? 1 : 0}$`, 'm').test(await prometheus(host)), `fast path ${on ? 'on' : 'off'}`, 20_000);
}

/** Bytes per second of one TCP stream from `from` to `to` over SECONDS (node on both ends). */
async function tcpRate(from: LabVm, to: LabVm, toIp: string, port: number): Promise<number> {
  const receiver = bgExec(to.ns, ['node', '-e', `let n = 0; const srv = require('net').createServer((s) => { s.on('data', (d) => (n += d.length)); s.on('end', () => { console.log(n); srv.close(); }); }).listen(${port})`]);
  await new Promise((r) => setTimeout(r, 300));
  const sent = await nsExec(from.ns, ['node', '-e', `const s = require('net').connect(${port}, '${toIp}'); const b = Buffer.alloc(1 << 20, 1); const end = Date.now() + ${SECONDS * 1000}; let t0 = 0; const more = () => { while (Date.now() < end) { if (!s.write(b)) return s.once('drain', more); } s.end(); }; s.on('connect', () => { t0 = Date.now(); more(); }); s.on('error', (e) => { console.error(e.message); process.exit(1); });`], (SECONDS + 30) * 1000);
  if (sent.code !== 0) throw new Error(`tcp sender: ${sent.stderr}`);
  return Number((await receiver).trim()) / SECONDS;
}

/** The kernel's own VXLAN between two hosts: a VXLAN device and a bridge on each, the VM's veth in it. */
async function kernelOverlay(a: LabHost, b: LabHost, vmIfs: [string, string], up: boolean): Promise<void> {
  for (const [h, peer, vmIf] of [[a, b, vmIfs[0]], [b, a, vmIfs[1]]] as const) {
    if (!up) {
      await nsExec(h.ns, ['ip', 'link', 'del', 'kvx0']);
      await nsExec(h.ns, ['ip', 'link', 'del', 'kbr0']);
      continue;
    }
    await nsExec(h.ns, ['ip', 'link', 'add', 'kvx0', 'type', 'vxlan', 'id', '4242', 'remote', peer.underlayIp, 'local', h.underlayIp, 'dstport', '4789', 'dev', 'eth0']);
    await nsExec(h.ns, ['ip', 'link', 'add', 'kbr0', 'type', 'bridge']);
    for (const i of ['kvx0', vmIf]) await nsExec(h.ns, ['ip', 'link', 'set', i, 'master', 'kbr0']);
    for (const i of ['kvx0', 'kbr0']) await nsExec(h.ns, ['ip', 'link', 'set', i, 'up']);
  }
}

/** (f): TCP across two hosts, VMs at default offloads with the MTU DHCP offers on this underlay (1450). */
async function tcpAcrossHosts(lab: Lab): Promise<void> {
  const t1 = await lab.addHost('tcp1');
  const t2 = await lab.addHost('tcp2');
  await tunnelZone(lab, 'vxlan', [t1, t2]);
  const a = await lab.addVm(t1, { mac: '02:00:00:00:78:01', cidr: '10.78.0.1/24' });
  const b = await lab.addVm(t2, { mac: '02:00:00:00:78:02', cidr: '10.78.0.2/24' });
  for (const vm of [a, b]) await nsExec(vm.ns, ['ip', 'link', 'set', 'eth0', 'mtu', '1450']);
  await kernelOverlay(t1, t2, [a.ifname, b.ifname], true);
  const kernel = await sampled(() => tcpRate(a, b, '10.78.0.2', 5201), (x) => x);
  emit('f_tcp_kernel_vxlan', 'throughput', kernel / 1e6, 'MB/s');
  await kernelOverlay(t1, t2, [a.ifname, b.ifname], false);
  const net = await lab.create('/bridges', { name: 'tcp' });
  await plug(lab, net, t1, a);
  await plug(lab, net, t2, b);
  const fast = await sampled(() => tcpRate(a, b, '10.78.0.2', 5201), (x) => x);
  emit('f_tcp_agent_fast_path', 'throughput', fast / 1e6, 'MB/s', { baseline: Math.round(kernel / 1e6), ratio: Math.round((fast / kernel) * 100) / 100 });
  await fastPath(lab, t1, false);
  await fastPath(lab, t2, false);
  const user = await sampled(() => tcpRate(a, b, '10.78.0.2', 5201), (x) => x);
  emit('f_tcp_agent_userspace', 'throughput', user / 1e6, 'MB/s', { baseline: Math.round(kernel / 1e6), ratio: Math.round((user / kernel) * 100) / 100 });
  await fastPath(lab, t1, true);
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
/** The median of REPEAT samples, ordered by `by` (a number itself, a rate's frames per second). */
async function sampled<T>(take: () => Promise<T>, by: (x: T) => number): Promise<T> {
  const xs: T[] = [];
  for (let i = 0; i < REPEAT; i++) xs.push(await take());
  return [...xs].sort((x, y) => by(x) - by(y))[Math.floor(xs.length / 2)]!;
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
    // What the generator sends is received on CPU 1 (RPS), where every forwarder runs: the kernel's
    // own forwarding (bridge, fast path) would otherwise share CPU 0 with the generator and the sink.
    await nsExec(dut.ns, ['sh', '-c', `echo 2 > /sys/class/net/${gen.ifname}/queues/rx-0/rps_cpus`]);
    // Static neighbours: the round trips measure forwarding, not ARP.
    await nsExec(gen.ns, ['ip', 'neigh', 'replace', '10.77.0.2', 'lladdr', sink.mac, 'dev', 'eth0']);
    await nsExec(sink.ns, ['ip', 'neigh', 'replace', '10.77.0.1', 'lladdr', gen.mac, 'dev', 'eth0']);

    // (a) the C forwarder, gen side -> sink side.
    const a = await sampled(() => throughput(pkt, gen, sink, false, () => timed(dut.ns, ['taskset', '-c', '1', pkt, 'fwd', gen.ifname, sink.ifname, String(SECONDS + 0.5)])), (r) => r.pps);
    emitRate('a_c_forwarder', a);

    // (b) the Linux bridge between the same two veths.
    await nsExec(dut.ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await nsExec(dut.ns, ['ip', 'link', 'set', 'br0', 'up']);
    for (const i of [gen.ifname, sink.ifname]) await nsExec(dut.ns, ['ip', 'link', 'set', i, 'master', 'br0']);
    const b = await sampled(() => throughput(pkt, gen, sink, false), (r) => r.pps);
    emitRate('b_linux_bridge', b, a);
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
    emit('e_agent', 'first_packet_rtt_cold_start', cold.first, 'ms');
    const agentPid = dut.agent.pid!;
    const fast = await sampled(() => throughput(pkt, gen, sink, false, agentPid), (r) => r.pps);
    emitRate('c_agent_fast_path', fast, a);
    await fastPath(lab, dut, false);
    const c = await sampled(() => throughput(pkt, gen, sink, false, agentPid), (r) => r.pps);
    emitRate('c_agent_flow_hit', c, a);
    const d = await sampled(() => throughput(pkt, gen, sink, true, agentPid), (r) => r.pps);
    emit('d_agent_new_flows', 'new_flows_per_s', d.pps, 'flows/s', { forwarder_cpu_ns_per_frame: Math.round(d.processNsPerFrame ?? 0) });
    const userspace = await medianRtts(gen);
    emit('e_agent_userspace', 'first_packet_rtt', userspace.first, 'ms');
    emit('e_agent_userspace', 'cached_rtt', userspace.cached, 'ms');
    await fastPath(lab, dut, true);
    // With the fast path, a source port seen before (the 16-bit ports wrap within a sample) is a
    // kernel hit from its third frame on: the figure mixes new flows with the cost of offering them.
    const dFast = await sampled(() => throughput(pkt, gen, sink, true, agentPid), (r) => r.pps);
    emit('d_agent_new_flows_fast_path', 'new_flows_per_s', dFast.pps, 'flows/s', { forwarder_cpu_ns_per_frame: Math.round(dFast.processNsPerFrame ?? 0) });
    // Further ping processes are new flows (new ICMP ids) through warmed-up code, as for userspace above.
    const ours = await medianRtts(gen);
    emit('e_agent', 'first_packet_rtt', ours.first, 'ms');
    emit('e_agent', 'cached_rtt', ours.cached, 'ms');
    await tcpAcrossHosts(lab);
  } finally {
    await lab.destroy();
  }
}

await main();
