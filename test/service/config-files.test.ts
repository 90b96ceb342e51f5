/** MidoNet's configuration files: the cluster and the agent find the NSDB, and the agent the cluster, as the seeds set them up. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/nsdb/open.ts';
import { T } from '../../src/model/types.ts';
import { ClusterProcess } from '../helpers/cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';
import { ZooKeeperServer } from '../helpers/zookeeper.ts';

describe('midonet.conf and midolman.conf', { timeout: 90_000 }, () => {
  let zk: ZooKeeperServer;
  let dir: string;
  let cluster: ClusterProcess;
  const rootKey = `/cfg${Math.floor(Math.random() * 1e6)}`;
  before(async () => {
    zk = await ZooKeeperServer.start();
    dir = mkdtempSync(join(tmpdir(), 'conf-files-'));
    const zkSection = `[zookeeper]\nzookeeper_hosts = ${zk.hosts}\nroot_key = ${rootKey}\n`;
    writeFileSync(join(dir, 'midonet.conf'), zkSection);
    writeFileSync(join(dir, 'midolman.conf'), `# as the seeds write it\n${zkSection}`);
    cluster = await ClusterProcess.start(['--config', join(dir, 'midonet.conf')]);
  });
  after(async () => {
    await cluster?.stop();
    await zk?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts the cluster on the ZooKeeper midonet.conf names', async () => {
    const r = await fetch(`${cluster.url}/routers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'from-conf' }) });
    assert.equal(r.status, 201);
    const store = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey });
    try {
      assert.ok((await store.getAll<{ id: string; name: string }>(T.Router)).some((x) => x.name === 'from-conf'));
    } finally {
      await store.close();
    }
  });

  it('lets an agent with only midolman.conf find the cluster through ZooKeeper', async () => {
    const agent = await VirtualAgent.start(cluster.url, dir, 'conf-agent', ['--config', join(dir, 'midolman.conf')], { findCluster: true });
    try {
      assert.match(agent.log.join(''), new RegExp(cluster.url.replace(/[/.]/g, '\\$&')));
    } finally {
      await agent.stop();
    }
  });
});
