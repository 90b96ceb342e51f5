import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ip, namespaces } from './host-net.ts';
import { loadState } from './state.ts';

/** Pids of the processes started from the sandbox's folder (their command lines name it). */
function processesOf(dir: string): number[] {
  const mark = `${dir}/`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(mark)) out.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `midonet sandbox down`: stops every process started from the sandbox's folder (agents,
 * cluster, dhclients, BGP daemons), removes its namespaces, links and files. Idempotent; works
 * from the state file alone, whatever died or was killed before.
 */
export async function sandboxDown(dir: string, say: (line: string) => void): Promise<void> {
  const s = loadState(dir);
  if (!s) {
    say(`no sandbox in ${dir}`);
    return;
  }
  let pids = processesOf(dir);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  const end = Date.now() + 3000;
  while ((pids = pids.filter(alive)).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  for (const pid of processesOf(dir)) process.kill(pid, 'SIGKILL');

  // Its own namespaces, and the BGP speakers' namespaces its agents made.
  const speakers = s.agents.map((a) => `mbgp-${a.id.slice(0, 8)}-`);
  for (const ns of await namespaces()) {
    if (ns.startsWith(`sbx${s.tag}`) || s.namespaces.includes(ns) || speakers.some((p) => ns.startsWith(p))) await ip('netns', 'del', ns).catch(() => undefined);
  }
  for (const link of s.links) await ip('link', 'del', link).catch(() => undefined);
  if (s.createdDir) rmSync(dir, { recursive: true, force: true });
  else {
    const made = /^(nsdb|sandbox\.json.*|cluster\.log|host\d+\.(id|log|sock|state)|vm\d+\.(lease|leases|dhclient\.pid|dhclient-script))$/;
    for (const f of readdirSync(dir)) if (made.test(f)) rmSync(join(dir, f), { recursive: true, force: true });
  }
  say(`sandbox in ${dir} removed`);
}
