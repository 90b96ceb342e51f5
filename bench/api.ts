/**
 * API throughput and watch latency, embedded NSDB vs ZooKeeper, side by side in one run.
 * Each backend runs behind a real `midonet-cluster` process; the client is this process over
 * loopback HTTP. Prints one JSON line per figure; ZooKeeper lines carry the embedded figure as
 * baseline and their ratio to it.
 *
 *   node --import tsx bench/api.ts [--routers 400] [--concurrency 16] [--read-seconds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { ClusterProcess } from '../test/helpers/cluster.ts';
import { ZooKeeperServer } from '../test/helpers/zookeeper.ts';

const { values } = parseArgs({
  options: {
    routers: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '16' },
    'read-seconds': { type: 'string', default: '3' },
    notifications: { type: 'string', default: '200' },
  },
});
const ROUTERS = Number(values.routers);
const CONCURRENCY = Number(values.concurrency);
const READ_MS = Number(values['read-seconds']) * 1000;
const NOTIFICATIONS = Number(values.notifications);
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

interface Figure {
  metric: string;
  value: number;
  unit: string;
}

/** Runs `n` tasks with at most CONCURRENCY in flight; returns tasks per second. */
async function rate(n: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function post(url: string, body: unknown): Promise<string> {
  const r = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST ${url}: ${r.status} ${await r.text()}`);
  return r.headers.get('location')!.split('/').pop()!;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function measure(cluster: ClusterProcess): Promise<Figure[]> {
  const api = cluster.url;
  const routers: string[] = [];
  const routerRate = await rate(ROUTERS, async (i) => {
    routers.push(await post(`${api}/routers`, { name: `r${i}`, tenantId: 'bench' }));
  });
  const ports: string[] = [];
  const portRate = await rate(ROUTERS * 2, async (i) => {
    ports.push(await post(`${api}/routers/${routers[i % routers.length]}/ports`, { type: 'Router', portAddress: `10.${i >> 8}.${i & 255}.1`, networkLength: 24 }));
  });
  let reads = 0;
  const end = performance.now() + READ_MS;
  const readStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; performance.now() < end; i++) {
        const path = i % 2 === 0 ? `routers/${routers[i % routers.length]}` : `ports/${ports[i % ports.length]}`;
        const r = await fetch(`${api}/${path}`, { headers: { accept: 'application/json' } });
        if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
        await r.arrayBuffer();
        reads++;
      }
    }),
  );
  const readRate = reads / ((performance.now() - readStart) / 1000);

  // Watch notification: PUT a router, time until the topology stream delivers the new name.
  const ws = new WebSocket(`ws://127.0.0.1:${cluster.port}/topology`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const target = routers[0]!;
  let waiting: { name: string; resolve: () => void } | null = null;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { op: string; value?: { name?: string } };
    if (waiting && m.op === 'update' && m.value?.name === waiting.name) waiting.resolve();
  });
  const first = new Promise<void>((resolve) => (waiting = { name: 'r0', resolve }));
  ws.send(JSON.stringify({ op: 'watch', type: 'Router', id: target }));
  await first;
  const notify: number[] = [];
  const putOnly: number[] = [];
  for (let i = 0; i < NOTIFICATIONS; i++) {
    const name = `n${i}`;
    const seen = new Promise<void>((resolve) => (waiting = { name, resolve }));
    const t0 = performance.now();
    const r = await fetch(`${api}/routers/${target}`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ name, tenantId: 'bench' }) });
    if (r.status !== 204) throw new Error(`PUT: ${r.status}`);
    putOnly.push(performance.now() - t0);
    await seen;
    notify.push(performance.now() - t0);
  }
  ws.close();
  return [
    { metric: 'router_creates_per_s', value: routerRate, unit: 'ops/s' },
    { metric: 'port_creates_per_s', value: portRate, unit: 'ops/s' },
    { metric: 'reads_per_s', value: readRate, unit: 'ops/s' },
    { metric: 'put_latency_p50', value: percentile(putOnly, 0.5), unit: 'ms' },
    { metric: 'watch_notify_latency_p50', value: percentile(notify, 0.5), unit: 'ms' },
    { metric: 'watch_notify_latency_p99', value: percentile(notify, 0.99), unit: 'ms' },
  ];
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const zk = await ZooKeeperServer.start();
  try {
    const embedded = await ClusterProcess.start(['--data-dir', dir]);
    const base = await measure(embedded);
    await embedded.stop();
    const zkCluster = await ClusterProcess.start(['--zookeeper', zk.hosts, '--root-key', '/bench']);
    const zkFigures = await measure(zkCluster);
    await zkCluster.stop();
    for (const f of base) console.log(JSON.stringify({ bench: 'api', backend: 'embedded', metric: f.metric, value: round(f.value), unit: f.unit }));
    zkFigures.forEach((f, i) => {
      const b = base[i]!.value;
      console.log(JSON.stringify({ bench: 'api', backend: 'zookeeper', metric: f.metric, value: round(f.value), unit: f.unit, baseline: round(b), ratio: round(f.value / b) }));
    });
  } finally {
    await zk.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
