import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess } from '../helpers/cluster.ts';
import { ZooKeeperServer } from '../helpers/zookeeper.ts';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * Writers create routers as fast as the cluster acknowledges them; the cluster is killed with
 * SIGKILL mid-stream. Every router whose 201 arrived must be there after the restart.
 */
async function writeUntilKilled(cluster: ClusterProcess, acksBeforeKill: number): Promise<string[]> {
  const acked: string[] = [];
  const refused = new Map<number, number>();
  let killed = false;
  const deadline = Date.now() + 30_000;
  const writer = async (w: number) => {
    for (let i = 0; !killed; i++) {
      if (Date.now() > deadline) throw new Error(`only ${acked.length} writes acknowledged in 30 s; refused: ${JSON.stringify([...refused])}`);
      try {
        const r = await fetch(`${cluster.url}/routers`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: `w${w}-${i}` }) });
        if (r.status === 201) acked.push(r.headers.get('location')!.split('/').pop()!);
        else refused.set(r.status, (refused.get(r.status) ?? 0) + 1);
      } catch {
        return; // connection died with the process
      }
      if (acked.length >= acksBeforeKill && !killed) {
        killed = true;
        await cluster.kill9();
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  return acked;
}

async function assertAllPresent(cluster: ClusterProcess, ids: string[]): Promise<void> {
  const r = await fetch(`${cluster.url}/routers`, { headers: { accept: 'application/json' } });
  const present = new Set(((await r.json()) as { id: string }[]).map((x) => x.id));
  const missing = ids.filter((id) => !present.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${ids.length} acknowledged routers lost`);
}

describe('acknowledged writes survive kill -9', () => {
  it('embedded NSDB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-'));
    try {
      const first = await ClusterProcess.start(['--data-dir', dir]);
      const acked = await writeUntilKilled(first, 150);
      assert.ok(acked.length >= 150);
      const second = await ClusterProcess.start(['--data-dir', dir]);
      await assertAllPresent(second, acked);
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('ZooKeeper NSDB', () => {
    let zk: ZooKeeperServer;
    before(async () => (zk = await ZooKeeperServer.start()));
    after(() => zk.destroy());

    it('survives the cluster and then ZooKeeper itself being killed', async () => {
      const args = ['--zookeeper', zk.hosts, '--root-key', '/crash'];
      const first = await ClusterProcess.start(args);
      const acked = await writeUntilKilled(first, 150);
      await zk.stop();
      await zk.startProcess();
      const second = await ClusterProcess.start(args);
      await assertAllPresent(second, acked);
      await second.stop();
    });
  });
});
