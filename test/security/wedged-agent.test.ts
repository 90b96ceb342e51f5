/** Finding 2, the other half: an agent whose event loop is stuck must not look alive. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClusterProcess } from '../helpers/cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';

const WATCHDOG = fileURLToPath(new URL('../../src/agent/watchdog.ts', import.meta.url));

describe('a wedged agent', { timeout: 90_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let agent: VirtualAgent;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wedged-'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
    // A stopped process stops its watchdog too; the long limit keeps it from firing on the way back.
    agent = await VirtualAgent.start(cluster.url, dir, 'stuck', ['--watchdog', '120']);
  });
  after(async () => {
    agent?.proc.kill('SIGCONT');
    await agent?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const alive = async () => ((await (await fetch(`${cluster.url}/hosts/${agent.id}`, { headers: { accept: 'application/json' } })).json()) as { alive: boolean }).alive;

  it('loses its host\'s alive key when it stops answering, and gets it back when it answers again', async () => {
    assert.equal(await alive(), true);
    agent.proc.kill('SIGSTOP');
    const stopped = Date.now();
    while (await alive()) {
      assert.ok(Date.now() - stopped < 20_000, 'still alive 20 s after it stopped answering');
      await new Promise((r) => setTimeout(r, 250));
    }
    agent.proc.kill('SIGCONT');
    const resumed = Date.now();
    while (!(await alive())) {
      assert.ok(Date.now() - resumed < 20_000, 'not alive again 20 s after it came back');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('kills itself when its event loop stalls past the watchdog limit', async () => {
    const stuck = spawn(process.execPath, ['--import', 'tsx', '-e', `import('${WATCHDOG}').then(({ startWatchdog }) => { startWatchdog(500); setTimeout(() => { for (;;) {} }, 100); });`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    stuck.stderr.on('data', (d) => (err += d));
    const t0 = Date.now();
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => stuck.once('exit', (_c, s) => resolve(s)));
    assert.equal(signal, 'SIGKILL');
    assert.ok(Date.now() - t0 < 5000);
    assert.match(err, /event loop stalled/);
  });
});
