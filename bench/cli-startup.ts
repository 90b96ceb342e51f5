/**
 * Start-up time of `midonet-cli -A -e router list` against a live cluster: the TypeScript run
 * through tsx (how the commands ran before the compiled build; MIDONET_FROM_SOURCE=1) and the
 * compiled build, interleaved run by run so machine noise hits both alike. Each run is a whole
 * process: start, login-free root fetch, system state, the list, exit. One JSON line per variant.
 *
 *   npm run build && node --import tsx bench/cli-startup.ts [--runs 20] [--routers 50]
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ClusterProcess } from '../test/helpers/cluster.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, routers: { type: 'string', default: '50' } } });
const RUNS = Number(values.runs);
const CLI = fileURLToPath(new URL('../bin/midonet-cli.js', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../dist/.built', import.meta.url)))) throw new Error('run `npm run build` first');

const VARIANTS: Record<string, NodeJS.ProcessEnv> = {
  'tsx-source': { ...process.env, MIDONET_FROM_SOURCE: '1' },
  compiled: { ...process.env, MIDONET_FROM_SOURCE: '' },
};

const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
const cluster = await ClusterProcess.start(['--data-dir', dir]);
try {
  for (let i = 0; i < Number(values.routers); i++) {
    await fetch(`${cluster.url}/routers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `r${i}` }) });
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
  // One unmeasured run each warms the page cache.
  for (let i = -1; i < RUNS; i++) {
    for (const [name, env] of Object.entries(VARIANTS)) {
      const start = performance.now();
      const { stdout } = await run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url, '-e', 'router', 'list'], { env });
      const ms = performance.now() - start;
      if (stdout.trim().split('\n').length !== Number(values.routers)) throw new Error(`${name}: unexpected output`);
      if (i >= 0) times[name]!.push(ms);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times['tsx-source']!);
  for (const [name, xs] of Object.entries(times)) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(JSON.stringify({
      bench: 'cli-startup', command: 'midonet-cli -A -e router list', variant: name, runs: RUNS,
      median_ms: Math.round(median(xs)), p90_ms: Math.round(sorted[Math.floor(sorted.length * 0.9)]!),
      baseline: 'tsx-source', ratio_to_baseline: Number((median(xs) / base).toFixed(2)),
    }));
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
