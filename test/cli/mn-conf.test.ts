import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { ZooKeeperServer } from '../helpers/zookeeper.ts';

const MN_CONF = fileURLToPath(new URL('../../bin/mn-conf.js', import.meta.url));

/** Runs mn-conf with `input` on standard input; resolves with exit code and output. */
function mnConf(env: Record<string, string>, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [MN_CONF, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    p.stdin!.end(input);
  });
}

/** The seeds' mn-conf lines, word for word (quickstart chapters 3-4 and 9, Eucalyptus guide). */
async function replaySeeds(env: Record<string, string>): Promise<void> {
  const steps: [string[], string][] = [
    [['set', '-t', 'default'], 'zookeeper {\n    zookeeper_hosts = "nsdb1:2181,nsdb2:2181,nsdb3:2181"\n}\ncassandra {\n    servers = "nsdb1,nsdb2,nsdb3"\n}\n'],
    [['set', '-t', 'default'], 'cassandra.replication_factor : 3\n'],
    [['set', '-t', 'default'], 'cluster.auth {\n   provider_class =\n   "org.midonet.cluster.auth.keystone.v2_0.KeystoneService"\n    admin_role = "admin"\n    keystone.tenant_name = "admin"\n    keystone.admin_token = "ADMIN_TOKEN"\n    keystone.host = controller\n    keystone.port = 35357\n}\n'],
    [['set', '-t', 'default'], 'agent.openstack.metadata.nova_metadata_url : "http://nova_metadata_host:8775"\n'],
    [['set', '-t', 'default'], 'agent.openstack.metadata.shared_secret : shared_secret\n'],
    [['set', '-t', 'default'], 'agent.openstack.metadata.enabled : true\n'],
    [['set', 'cluster.rest_api.http_port=8080'], ''],
    [['set', 'cluster.rest_api.http_host="127.0.0.1"'], ''],
  ];
  for (const [args, input] of steps) {
    const r = await mnConf(env, args, input);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
}

async function checkSeeds(env: Record<string, string>): Promise<void> {
  const get = async (key: string) => (await mnConf(env, ['get', key])).stdout.trim();
  assert.equal(await get('zookeeper.zookeeper_hosts'), 'zookeeper.zookeeper_hosts = "nsdb1:2181,nsdb2:2181,nsdb3:2181"');
  assert.equal(await get('cassandra.replication_factor'), 'cassandra.replication_factor = 3');
  assert.equal(await get('cluster.auth.keystone.port'), 'cluster.auth.keystone.port = 35357');
  assert.equal(await get('agent.openstack.metadata.enabled'), 'agent.openstack.metadata.enabled = true');
  assert.equal(await get('agent.openstack.metadata.shared_secret'), 'agent.openstack.metadata.shared_secret = "shared_secret"');
  assert.equal(await get('cluster.rest_api.http_port'), 'cluster.rest_api.http_port = 8080');
  assert.equal(await get('cluster.rest_api.http_host'), 'cluster.rest_api.http_host = "127.0.0.1"');
  // Per-host templates take precedence over default, and per-host values over the template.
  const host = randomUUID();
  assert.equal((await mnConf(env, ['template-set', '-h', host, '-t', 'agent-gateway-large'])).code, 0);
  assert.equal((await mnConf(env, ['template-get', '-h', host])).stdout.trim(), `${host} agent-gateway-large`);
  assert.equal(await get('agent.datapath.max_flow_count'), 'agent.datapath.max_flow_count = 100000');
  assert.equal((await mnConf(env, ['get', '-h', host, 'agent.datapath.max_flow_count'])).stdout.trim(), 'agent.datapath.max_flow_count = 2500000');
  assert.equal((await mnConf(env, ['set', '-h', host, 'agent.datapath.max_flow_count : 7'])).code, 0);
  assert.equal((await mnConf(env, ['get', '-h', host, 'agent.datapath.max_flow_count'])).stdout.trim(), 'agent.datapath.max_flow_count = 7');
  assert.equal((await mnConf(env, ['unset', '-h', host, 'agent.datapath.max_flow_count'])).code, 0);
  assert.equal((await mnConf(env, ['get', '-h', host, 'agent.datapath.max_flow_count'])).stdout.trim(), 'agent.datapath.max_flow_count = 2500000');
  assert.match((await mnConf(env, ['template-list'])).stdout, /^agent-compute-large\nagent-compute-medium\nagent-gateway-large\nagent-gateway-medium\ndefault$/m);
  assert.match((await mnConf(env, ['hosts'])).stdout, new RegExp(`${host} template agent-gateway-large`));
  assert.match((await mnConf(env, ['doc', 'agent.openstack.metadata.enabled'])).stdout, /Proxy VM requests to 169\.254\.169\.254/);
  const dump = JSON.parse((await mnConf(env, ['dump', '-t', 'default', '-H', '-j'])).stdout) as Record<string, unknown>;
  assert.equal(dump['cassandra.servers'], 'nsdb1,nsdb2,nsdb3');
  // Bad input: one line, non-zero exit, nothing changed.
  for (const [args, input] of [[['set'], 'x = {'], [['frobnicate'], ''], [['get', 'no.such.key'], ''], [['template-set', '-h', host, '-t', 'nope'], '']] as [string[], string][]) {
    const r = await mnConf(env, args, input);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.equal((await mnConf(env, ['template-get', '-h', host])).stdout.trim(), `${host} agent-gateway-large`);
}

describe('mn-conf', { timeout: 120_000 }, () => {
  let zk: ZooKeeperServer;
  let cluster: ClusterProcess;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mnconf-'));
    zk = await ZooKeeperServer.start();
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
  });
  after(async () => {
    await cluster.stop();
    await zk.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays the seeds against ZooKeeper found through /etc/midonet/midonet.conf [zookeeper]', async () => {
    const conf = join(dir, 'midonet.conf');
    writeFileSync(conf, `[zookeeper]\nzookeeper_hosts = ${zk.hosts}\nroot_key = /mnconf\n`);
    const env = { MIDO_BOOTSTRAP_FILES: conf };
    await replaySeeds(env);
    await checkSeeds(env);
  });

  it('replays the seeds against the embedded NSDB through the cluster (/midonet-api/conf)', async () => {
    const env = { MIDO_BOOTSTRAP_FILES: '/nonexistent', MIDONET_CLUSTER_URL: cluster.url };
    await replaySeeds(env);
    await checkSeeds(env);
    const r = await fetch(`${cluster.url}/conf/templates/default`, { headers: { accept: 'text/plain' } });
    assert.equal(r.status, 200);
    assert.match(await r.text(), /^agent\.openstack\.metadata\.enabled : true$/m);
    assert.equal((await fetch(`${cluster.url}/conf/templates/default`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a = {' })).status, 400);
    // The cluster listens where mn-conf says when its command line does not say.
    const port = await freePort();
    assert.equal((await mnConf(env, ['set', `cluster.rest_api.http_port=${port}`])).code, 0);
    await cluster.stop();
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')], port, '127.0.0.1', true);
    assert.equal(cluster.port, port);
    const down = await mnConf({ MIDO_BOOTSTRAP_FILES: '/nonexistent', MIDONET_CLUSTER_URL: 'http://127.0.0.1:1/midonet-api' }, ['dump']);
    assert.equal(down.code, 1);
    assert.equal(down.stderr, 'mn-conf: cannot reach the MidoNet cluster at http://127.0.0.1:1/midonet-api\n');
  });
});
