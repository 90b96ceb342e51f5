/** The daemons as services: Prometheus metrics, health and readiness, a log line per request, a quick SIGTERM. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';
import { ZooKeeperServer } from '../helpers/zookeeper.ts';

/** Prometheus's text format, line by line: every sample a name, optional labels and a number. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      assert.match(line, /^(|# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)$/, line);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|NaN|\+Inf|-Inf))$/.exec(line);
    assert.ok(m, `not a Prometheus sample: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

describe('the cluster and an agent as services', { timeout: 90_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let agent: VirtualAgent;
  let agentMetrics: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'service-'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
    const port = await freePort();
    agentMetrics = `http://127.0.0.1:${port}`;
    agent = await VirtualAgent.start(cluster.url, dir, 'serviced', ['--metrics-port', String(port)]);
  });
  after(async () => {
    await agent?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const root = () => cluster.url.replace('/midonet-api', '');

  it('serves Prometheus metrics: requests by route and status, NSDB and topology stream, the process', async () => {
    assert.equal((await fetch(`${cluster.url}/routers`, { headers: { accept: 'application/json' } })).status, 200);
    const text = await (await fetch(`${root()}/metrics`)).text();
    const m = parsePrometheus(text);
    assert.ok(m.get('midonet_cluster_http_requests_total{api="midonet",route="/midonet-api/routers",method="GET",status="200"}')! >= 1, text.slice(0, 500));
    assert.ok([...m.keys()].some((k) => k.startsWith('midonet_cluster_http_request_duration_seconds_bucket')));
    assert.ok(m.get('midonet_cluster_nsdb_commits_total')! >= 1);
    assert.equal(m.get('midonet_cluster_nsdb_available'), 1);
    assert.equal(m.get('midonet_cluster_topology_sessions'), 1, 'the agent');
    assert.ok(m.get('midonet_cluster_topology_messages_sent_total')! > 0);
    assert.ok(m.has('midonet_cluster_process_resident_memory_bytes'));
    const a = parsePrometheus(await (await fetch(`${agentMetrics}/metrics`)).text());
    for (const name of ['midonet_agent_flows', 'midonet_agent_simulations_total', 'midonet_agent_topology_objects', 'midonet_agent_bgp_speakers', 'midonet_agent_nat_blocks_held']) assert.ok(a.has(name), name);
    assert.ok(a.has('midonet_agent_packets_dropped_total{reason="tunnel_foreign"}'));
    assert.ok(a.has('midonet_agent_simulation_duration_seconds_count'));
  });

  it('answers health and readiness on both', async () => {
    for (const base of [root(), agentMetrics]) {
      assert.equal((await fetch(`${base}/healthz`)).status, 200, base);
      assert.equal((await fetch(`${base}/readyz`)).status, 200, base);
    }
  });

  it('logs one JSON line per API request, with method, path, status, time and user', async () => {
    await fetch(`${cluster.url}/bridges?marker=log-test`, { headers: { accept: 'application/json' } });
    await new Promise((r) => setTimeout(r, 200));
    const line = cluster.log.split('\n').find((l) => l.includes('marker=log-test'));
    assert.ok(line, cluster.log.slice(-2000));
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.msg, 'request');
    assert.equal(entry.method, 'GET');
    assert.equal(entry.status, 200);
    assert.equal(entry.user, 'admin');
    assert.equal(typeof entry.ms, 'number');
    assert.equal(entry.level, 'info');
  });

  it('stops within 2 s on SIGTERM, the agent and the cluster', async () => {
    for (const p of [agent.proc, cluster.proc]) {
      const t0 = Date.now();
      const code = await new Promise<number | null>((resolve) => {
        p.once('exit', (c) => resolve(c));
        p.kill('SIGTERM');
      });
      assert.equal(code, 0);
      assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
    }
  });
});

describe('readiness follows the NSDB', { timeout: 120_000 }, () => {
  it('says not ready while ZooKeeper is gone, and ready once it is back', async () => {
    const zk = await ZooKeeperServer.start();
    const cluster = await ClusterProcess.start(['--zookeeper', zk.hosts, '--session-timeout', '30']);
    const ready = async () => (await fetch(cluster.url.replace('/midonet-api', '/readyz'))).status;
    try {
      assert.equal(await ready(), 200);
      await zk.stop();
      const t0 = Date.now();
      while ((await ready()) !== 503) {
        assert.ok(Date.now() - t0 < 20_000, 'still ready 20 s after ZooKeeper died');
        await new Promise((r) => setTimeout(r, 200));
      }
      const r = await fetch(`${cluster.url}/routers`, { headers: { accept: 'application/json' } });
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '5');
      await zk.startProcess();
      const t1 = Date.now();
      // ZooKeeper's JVM starts again and the client's reconnection backs off: slow on a loaded machine.
      while ((await ready()) !== 200) {
        assert.ok(Date.now() - t1 < 45_000, 'not ready 45 s after ZooKeeper came back');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await cluster.stop();
      await zk.destroy();
    }
  });
});
