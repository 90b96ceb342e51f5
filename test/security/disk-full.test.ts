/** Finding 6: a full disk is a clear answer, not the end of the embedded cluster. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess } from '../helpers/cluster.ts';

describe('the embedded NSDB on a disk that fills up', { timeout: 120_000 }, () => {
  let mnt: string;
  let cluster: ClusterProcess;
  before(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]);
    mkdirSync(join(mnt, 'nsdb'));
    cluster = await ClusterProcess.start(['--data-dir', join(mnt, 'nsdb')]);
  });
  after(async () => {
    await cluster?.stop();
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  const create = async (name: string) => {
    const r = await fetch(`${cluster.url}/routers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    return { status: r.status, body: await r.text(), id: r.headers.get('location')?.split('/').pop() };
  };

  it('answers 507 saying the disk is full, stays up, and writes again once space is freed', async () => {
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await create(`before-${i}`);
      assert.equal(r.status, 201);
      acked.push(r.id!);
    }
    // Fill what is left of the disk.
    const filler = join(mnt, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    } catch {
      // dd stops with an error when the disk is full: that is the point.
    }
    let refused: { status: number; body: string } | null = null;
    for (let i = 0; i < 2000 && !refused; i++) {
      const r = await create(`filling-${i}-${'x'.repeat(200)}`);
      if (r.status === 201) acked.push(r.id!);
      else refused = r;
    }
    assert.ok(refused, 'a write was refused');
    assert.equal(refused.status, 507, refused.body);
    assert.match(JSON.parse(refused.body).message, /disk/);
    assert.equal(cluster.proc.exitCode, null, 'the cluster is still running');
    assert.equal((await fetch(cluster.url, { headers: { accept: 'application/json' } })).status, 200);
    unlinkSync(filler);
    writeFileSync(join(mnt, 'marker'), '');
    let after = 0;
    for (let i = 0; i < 50 && after === 0; i++) {
      const r = await create(`after-${i}`);
      if (r.status === 201) after++;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(after, 1, 'writes work again');
    for (const id of acked) assert.equal((await fetch(`${cluster.url}/routers/${id}`, { headers: { accept: 'application/json' } })).status, 200, `acknowledged router ${id} lost`);
  });
});
