/**
 * Growing a cloud: N tenants of the shape OVN's scale tests use (a router, a network and subnet,
 * 10 VM ports, an external gateway with SNAT, one floating IP) built through the Neutron API of
 * one `midonet-cluster` (embedded NSDB), with M real agents (no datapath) each serving the ports
 * of two tenants. At each step of N it prints, as JSON lines: build time; VM port create p50/p99
 * for the first and the last 10% of the step; cluster RSS and NSDB size; objects, compiled
 * devices and RSS per agent; port create -> its agent has it; rule change -> flows invalidated;
 * trace; messages and bytes the cluster sends for a change in a served and in an unserved tenant.
 * The MidoNet-API variant builds the same routers, bridges and ports through the MidoNet API.
 *
 * With Debian's ovn-central installed, the same shape is also built through OVN at --ovn steps
 * (ovn-nbctl, northd, --wait=sb) and printed beside ours (api: "ovn").
 *
 *   node --import tsx bench/scale.ts [--steps 100,500,2000] [--agents 20] [--concurrency 4] [--samples 30] [--api neutron|midonet] [--ovn 100,200|none]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { buildEthernet } from '../src/packets/ethernet.ts';
import { ClusterProcess } from '../test/helpers/cluster.ts';
import { udp } from '../test/helpers/topology.ts';
import { VirtualAgent } from '../test/helpers/virtual-agent.ts';
import { OvnPeer, ovnInstalled } from './ovn-peer.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100,500,2000' },
    agents: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4' },
    samples: { type: 'string', default: '30' },
    api: { type: 'string', default: 'neutron' },
    /** Steps at which to build the same shape through OVN too (when Debian's ovn-central is installed). */
    ovn: { type: 'string', default: '100,200' },
  },
});
const STEPS = values.steps!.split(',').map(Number);
const AGENTS = Number(values.agents);
const CONCURRENCY = Number(values.concurrency);
const SAMPLES = Number(values.samples);
const VARIANT = values.api === 'midonet' ? 'midonet' : 'neutron';
const PORTS_PER_TENANT = 10;

type Json = Record<string, any>;

const line = (step: number, metric: string, value: number, unit: string, extra: Json = {}) =>
  console.log(JSON.stringify({ bench: 'scale', api: VARIANT, tenants: step, metric, value: Math.round(value * 100) / 100, unit, ...extra }));
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!);
/** Resident memory of a process (MB): all of it, and the part that is its own (not mapped files such as the NSDB's). */
function rss(pid: number): { total: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}
const rssMb = (pid: number) => rss(pid).total;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; location: string | null }> {
  const r = await fetch(url, { method, headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? (JSON.parse(text) as Json) : {}, location: r.headers.get('location') };
}

async function must(method: string, url: string, body?: unknown, want = [200, 201]): Promise<{ json: Json; location: string | null }> {
  const r = await call(method, url, body);
  if (!want.includes(r.status)) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.json)}`);
  return r;
}

/** Runs tasks first..last-1 with CONCURRENCY in flight. */
async function pool(first: number, last: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = first;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < last) await task(next++);
  }));
}

const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
const neutron = `${cluster.neutronUrl}/v2.0`;
const api = cluster.url;
const agents: VirtualAgent[] = [];

interface Tenant {
  id: string;
  net: string;
  ports: Json[];
  group: string;
}
const tenants: Tenant[] = [];
/** Port create latencies (ms) by tenant index. */
const portMs = new Map<number, number[]>();

/** The agent serving tenant i (each agent serves two tenants), if any. */
const agentOf = (i: number): VirtualAgent | undefined => (i < 2 * agents.length ? agents[Math.floor(i / 2)] : undefined);

let external = { net: '', subnet: '' };

async function neutronTenant(i: number): Promise<void> {
  const t = `tenant-${i}`;
  const h = { 'x-project-id': t };
  const post = async (path: string, body: Json) => {
    const r = await call('POST', `${neutron}/${path}`, body, h);
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const net = (await post('networks', { network: { name: `net-${i}`, tenant_id: t } })).network;
  const sub = (await post('subnets', { subnet: { network_id: net.id, cidr: '10.0.0.0/24', ip_version: 4, tenant_id: t } })).subnet;
  const router = (await post('routers', { router: { name: `r-${i}`, tenant_id: t, external_gateway_info: { network_id: external.net } } })).router;
  await must('PUT', `${neutron}/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
  const agent = agentOf(i);
  const ports: Json[] = [];
  const times: number[] = [];
  for (let p = 0; p < PORTS_PER_TENANT; p++) {
    const bound = agent && p < 5 ? { 'binding:host_id': agent.name, 'binding:profile': { interface_name: `t${i}p${p}` } } : {};
    const t0 = performance.now();
    ports.push((await post('ports', { port: { network_id: net.id, tenant_id: t, device_owner: 'compute:nova', name: `vm-${i}-${p}`, ...bound } })).port);
    times.push(performance.now() - t0);
  }
  await post('floatingips', { floatingip: { floating_network_id: external.net, port_id: ports[0]!.id, tenant_id: t } });
  portMs.set(i, times);
  tenants[i] = { id: t, net: net.id, ports, group: ports[0]!.security_groups[0] };
}

async function midonetTenant(i: number): Promise<void> {
  const t = `tenant-${i}`;
  const id = async (path: string, body: Json) => (await must('POST', `${api}${path}`, body)).location!.split('/').pop()!;
  const router = await id('/routers', { name: `r-${i}`, tenantId: t });
  const bridge = await id('/bridges', { name: `net-${i}`, tenantId: t });
  const rp = await id(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.0.0.1', networkLength: 24 });
  const bp = await id(`/bridges/${bridge}/ports`, { type: 'Bridge' });
  await must('POST', `${api}/ports/${rp}/link`, { peerId: bp });
  await id(`/routers/${router}/routes`, { type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: '10.0.0.0', dstNetworkLength: 24, nextHopPort: rp, weight: 100 });
  const times: number[] = [];
  const ports: Json[] = [];
  for (let p = 0; p < PORTS_PER_TENANT; p++) {
    const t0 = performance.now();
    ports.push({ id: await id(`/bridges/${bridge}/ports`, { type: 'Bridge' }) });
    times.push(performance.now() - t0);
  }
  portMs.set(i, times);
  tenants[i] = { id: t, net: bridge, ports, group: '' };
}

/** A topology stream client of the bench's own, to see when an agent has made a port active. */
function activeWatcher(): { until(port: string): Promise<number>; close(): void } {
  const ws = new WebSocket(`ws://127.0.0.1:${cluster.port}/topology`);
  const waiters = new Map<string, (t: number) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Json;
    if (m.op === 'state' && m.key === 'active' && m.value !== null) waiters.get(m.id)?.(performance.now());
  });
  const open = new Promise((r) => ws.once('open', r));
  return {
    async until(port: string) {
      await open;
      const p = new Promise<number>((resolve) => waiters.set(port, resolve));
      ws.send(JSON.stringify({ op: 'watchState', type: 'Port', id: port, key: 'active' }));
      return p;
    },
    close: () => ws.close(),
  };
}

async function measure(step: number, built: number, buildMs: number, from: number): Promise<void> {
  line(step, 'build_s', buildMs / 1000, 's', { added: step - from });
  const share = Math.max(1, Math.floor((step - from) / 10));
  const first = [...Array(share).keys()].flatMap((k) => portMs.get(from + k) ?? []);
  const last = [...Array(share).keys()].flatMap((k) => portMs.get(step - 1 - k) ?? []);
  line(step, 'port_create_first10_p50', pct(first, 0.5), 'ms', { p99: pct(first, 0.99) });
  line(step, 'port_create_last10_p50', pct(last, 0.5), 'ms', { p99: pct(last, 0.99), ratio_last_first: Math.round((pct(last, 0.5) / pct(first, 0.5)) * 100) / 100 });
  const c = rss(cluster.proc.pid!);
  line(step, 'cluster_rss', c.total, 'MB', { anon: Math.round(c.anon), mapped_files: Math.round(c.file) });
  line(step, 'nsdb_size', Number(execFileSync('du', ['-sk', join(dir, 'nsdb')], { encoding: 'utf8' }).split('\t')[0]) / 1024, 'MB');
  void built;
  if (agents.length === 0 || VARIANT !== 'neutron') return;

  // Port create -> the agent binding it has it (its active state), one at a time.
  const watcher = activeWatcher();
  const toAgent: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const ti = k % Math.min(tenants.length, 2 * agents.length);
    const agent = agentOf(ti)!;
    const t0 = performance.now();
    const r = await call('POST', `${neutron}/ports`, { port: { network_id: tenants[ti]!.net, tenant_id: tenants[ti]!.id, device_owner: 'compute:nova', 'binding:host_id': agent.name, 'binding:profile': { interface_name: `s${step}k${k}` } } }, { 'x-project-id': tenants[ti]!.id });
    const t1 = await watcher.until((r.json as Json).port.id);
    toAgent.push(t1 - t0);
    await must('DELETE', `${neutron}/ports/${(r.json as Json).port.id}`, undefined, [204]);
  }
  watcher.close();
  line(step, 'port_create_to_agent_p50', pct(toAgent, 0.5), 'ms', { p99: pct(toAgent, 0.99) });

  // Rule change -> flows through the tenant's group invalidated on its agent.
  const invalidation: number[] = [];
  for (let k = 0; k < SAMPLES; k++) {
    const ti = (k * 2) % Math.min(tenants.length, 2 * agents.length);
    const agent = agentOf(ti)!;
    const [a, b] = tenants[ti]!.ports as [Json, Json];
    const before = await agent.metrics();
    await agent.inject(a.id, buildEthernet(udp({ srcMac: a.mac_address, dstMac: b.mac_address, src: a.fixed_ips[0].ip_address, dst: b.fixed_ips[0].ip_address }, 10000 + k, 7000 + step)));
    const withFlow = await agent.until((m) => m.flows.flows > before.flows.flows, 'the flow');
    const t0 = performance.now();
    await must('POST', `${neutron}/security-group-rules`, { security_group_rule: { security_group_id: tenants[ti]!.group, direction: 'ingress', protocol: 'tcp', port_range_min: 1000 + k, port_range_max: 1000 + k + step } });
    await agent.until((m) => m.flows.invalidated > withFlow.flows.invalidated, 'invalidation');
    invalidation.push(performance.now() - t0);
  }
  line(step, 'rule_change_to_invalidation_p50', pct(invalidation, 0.5), 'ms', { p99: pct(invalidation, 0.99) });

  // Trace: VM to VM in a tenant, and VM out through SNAT.
  for (const [name, dst] of [['trace_vm_to_vm_p50', (t: Tenant) => t.ports[1]!.fixed_ips[0].ip_address], ['trace_vm_to_external_p50', () => '198.51.100.7']] as const) {
    const times: number[] = [];
    for (let k = 0; k < SAMPLES; k++) {
      const t = tenants[(k * 37) % tenants.length]!;
      const a = t.ports[0]!;
      const t0 = performance.now();
      const r = await call('POST', `${api}/trace`, { inPort: a.id, ethSrc: a.mac_address, srcIp: a.fixed_ips[0].ip_address, dstIp: dst(t), proto: 'udp', dstPort: 53 });
      if (r.status !== 200) throw new Error(`trace: ${r.status} ${JSON.stringify(r.json)}`);
      times.push(performance.now() - t0);
    }
    line(step, name, pct(times, 0.5), 'ms', { p99: pct(times, 0.99) });
  }

  // What agents hold and receive.
  const ms = await Promise.all(agents.map((a) => a.metrics()));
  const objects = ms.map((m) => m.topology.objects);
  line(step, 'agent_objects_max', Math.max(...objects), 'objects', { mean: Math.round(objects.reduce((x, y) => x + y, 0) / objects.length), devices_compiled_max: Math.max(...ms.map((m) => m.topology.devicesCompiled)) });
  const agentRss = agents.map((a) => rssMb(a.proc.pid!));
  line(step, 'agent_rss_max', Math.max(...agentRss), 'MB', { mean: Math.round((agentRss.reduce((x, y) => x + y, 0) / agentRss.length) * 10) / 10 });
  const sent = async (ti: number) => {
    const before = await Promise.all(agents.map((a) => a.metrics()));
    const r = await call('POST', `${neutron}/ports`, { port: { network_id: tenants[ti]!.net, tenant_id: tenants[ti]!.id, device_owner: 'compute:nova' } }, { 'x-project-id': tenants[ti]!.id });
    await sleep(500);
    const after = await Promise.all(agents.map((a) => a.metrics()));
    await must('DELETE', `${neutron}/ports/${(r.json as Json).port.id}`, undefined, [204]);
    return {
      messages: after.reduce((n, m, i) => n + m.topology.stream.messages - before[i]!.topology.stream.messages, 0),
      bytes: after.reduce((n, m, i) => n + m.topology.stream.bytes - before[i]!.topology.stream.bytes, 0),
    };
  };
  const served = await sent(0);
  const unserved = await sent(tenants.length - 1);
  line(step, 'messages_per_port_create_served_tenant', served.messages, 'messages', { bytes: served.bytes });
  line(step, 'messages_per_port_create_unserved_tenant', unserved.messages, 'messages', { bytes: unserved.bytes });
}

/** The OVN peer: the same build at its steps, port add with --wait=sb, ovn-trace, side by side with ours. */
async function ovnRun(steps: number[]): Promise<void> {
  const ovn = await OvnPeer.start();
  const out = (step: number, metric: string, value: number, unit: string, extra: Json = {}) =>
    console.log(JSON.stringify({ bench: 'scale', api: 'ovn', tenants: step, metric, value: Math.round(value * 100) / 100, unit, ...extra }));
  try {
    let built = 0;
    for (const step of steps) {
      const t0 = performance.now();
      const times: number[] = [];
      await pool(built, step, async (i) => void times.push(...(await ovn.tenant(i))));
      await ovn.sync();
      out(step, 'build_s', (performance.now() - t0) / 1000, 's', { added: step - built, includes: 'northd sync (--wait=sb)' });
      out(step, 'port_create_p50', pct(times, 0.5), 'ms', { p99: pct(times, 0.99), wait: 'none (nbctl only)' });
      const adds: number[] = [];
      for (let k = 0; k < Math.min(SAMPLES, 10); k++) adds.push(await ovn.portAdd((k * 37) % step));
      out(step, 'port_add_to_sb_p50', pct(adds, 0.5), 'ms', { p99: pct(adds, 0.99), min: Math.min(...adds), max: Math.max(...adds) });
      const traces: number[] = [];
      for (let k = 0; k < 3; k++) traces.push(await ovn.trace((k * 37) % step));
      out(step, 'trace_vm_to_vm_p50', pct(traces, 0.5), 'ms');
      built = step;
    }
  } finally {
    await ovn.stop();
  }
}

try {
  if (VARIANT === 'neutron' && values.ovn !== 'none' && ovnInstalled()) await ovnRun(values.ovn!.split(',').map(Number));
  if (VARIANT === 'neutron') {
    const net = (await must('POST', `${neutron}/networks`, { network: { name: 'public', 'router:external': true } })).json.network;
    const sub = (await must('POST', `${neutron}/subnets`, { subnet: { network_id: net.id, cidr: '100.64.0.0/16', ip_version: 4 } })).json.subnet;
    external = { net: net.id, subnet: sub.id };
    // The provider's edge router holds the external subnet's gateway address, as the seeds build it.
    const edge = (await must('POST', `${neutron}/routers`, { router: { name: 'edge' } })).json.router;
    await must('PUT', `${neutron}/routers/${edge.id}/add_router_interface`, { subnet_id: sub.id });
    for (let k = 0; k < AGENTS; k++) agents.push(await VirtualAgent.start(api, dir, `agent-${k}`));
  }
  let built = 0;
  for (const step of STEPS) {
    const t0 = performance.now();
    await pool(built, step, VARIANT === 'neutron' ? neutronTenant : midonetTenant);
    const buildMs = performance.now() - t0;
    // Agents serving the first tenants bind their ports before anything is measured.
    for (const [k, a] of agents.entries()) if (2 * k < step) await a.until((m) => m.ports.length >= 10 || 2 * k + 1 >= step, `agent ${k} ports`, 60_000);
    await measure(step, built, buildMs, built);
    built = step;
  }
} finally {
  for (const a of agents) await a.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
