import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sandboxDown } from '../sandbox/down.ts';
import { defaultDir, loadState, type SandboxState } from '../sandbox/state.ts';
import { sandboxUp } from '../sandbox/up.ts';

export const SANDBOX_USAGE = `usage: midonet sandbox up [--hosts 3] [--vms-per-host 2] [--port 8181] [--dir DIR]
       midonet sandbox status [--json] [--dir DIR]
       midonet sandbox exec VM -- COMMAND...      (VM: vm1, vm2, ... or internet)
       midonet sandbox down [--dir DIR]
A whole cloud on this machine (root): a cluster, hypervisors as network namespaces each running
midolman, a tenant router with two networks, VMs with DHCP leases, SNAT and a floating IP to an
"internet" namespace. DIR defaults to ${defaultDir()} (MIDONET_SANDBOX_DIR).`;

export class SandboxError extends Error {}

const count = (v: string, name: string, max: number): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new SandboxError(`--${name} must be 1 to ${max}, not ${v}`);
  return Number(v);
};

/** The machine-readable status: what a script needs to use the sandbox. */
export function statusJson(s: SandboxState) {
  return { api: s.api, console: s.console, internet: s.internet?.address ?? null, vms: s.vms.map((v) => ({ name: v.name, host: v.host, ip: v.ip, floatingIp: v.floatingIp })) };
}

function alive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function needRoot(): void {
  if (process.getuid?.() !== 0) throw new SandboxError('the sandbox makes network namespaces: run it as root');
}

/** The tail of each log, for when `up` fails. */
function logTails(dir: string, s: SandboxState | null): string {
  const names = ['cluster', ...(s?.agents.map((a) => a.name) ?? [])];
  return names.map((n) => {
    try {
      return `--- ${n}.log\n${readFileSync(join(dir, `${n}.log`), 'utf8').trim().split('\n').slice(-5).join('\n')}`;
    } catch {
      return '';
    }
  }).filter(Boolean).join('\n');
}

/** `midonet sandbox ...`; returns the exit code. */
export async function sandboxCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const dash = rest.indexOf('--');
  const own = dash >= 0 ? rest.slice(0, dash) : rest;
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: sub === 'exec',
    options: {
      dir: { type: 'string', default: defaultDir() },
      hosts: { type: 'string', default: '3' },
      'vms-per-host': { type: 'string', default: '2' },
      port: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const dir = resolve(values.dir!);
  const say = (line: string) => console.log(line);
  switch (sub) {
    case 'up': {
      needRoot();
      const hosts = count(values.hosts!, 'hosts', 16);
      const vmsPerHost = count(values['vms-per-host']!, 'vms-per-host', 8);
      const port = values.port === undefined ? null : count(values.port, 'port', 65535);
      let s: SandboxState;
      try {
        s = await sandboxUp({ dir, hosts, vmsPerHost, port, say });
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('a sandbox is already')) throw new SandboxError(err.message);
        console.error(`midonet: sandbox up failed: ${(err as Error).message}\n${logTails(dir, loadState(dir))}`);
        await sandboxDown(dir, () => undefined);
        return 1;
      }
      say('');
      say(`MidoNet API   ${s.api}`);
      say(`Console       ${s.console}`);
      say(`Neutron API   ${s.neutron}   (OS_AUTH_TYPE=none OS_ENDPOINT=${s.neutron} openstack network list)`);
      say(`Try           midonet sandbox exec vm1 -- ping -c 3 ${s.vms[1]?.ip ?? s.internet!.address}`);
      say(`              midonet sandbox exec vm1 -- ping -c 3 ${s.internet!.address}     (the internet, through SNAT)`);
      say(`              midonet sandbox exec internet -- ping -c 3 ${s.vms[0]!.floatingIp}   (vm1's floating IP)`);
      say(`              midonet-cli -A --midonet-url=${s.api}`);
      say(`Remove it     midonet sandbox down${values.dir === defaultDir() ? '' : ` --dir ${dir}`}`);
      return 0;
    }
    case 'status': {
      const s = loadState(dir);
      if (!s) throw new SandboxError(`no sandbox in ${dir}`);
      if (values.json) {
        say(JSON.stringify(statusJson(s)));
        return 0;
      }
      say(`sandbox in ${dir}: ${s.ready ? 'up' : 'not complete (midonet sandbox down, then up again)'}`);
      say(`cluster  ${alive(s.clusterPid) ? 'running' : 'stopped'}  ${s.api}  console ${s.console}`);
      for (const a of s.agents) say(`${a.name.padEnd(8)} ${alive(a.pid) ? 'running' : 'stopped'}  midolman in namespace ${a.ns}`);
      for (const v of s.vms) say(`${v.name.padEnd(8)} on ${v.host}  ${v.ip ?? '-'}${v.floatingIp ? `  floating ${v.floatingIp}` : ''}`);
      if (s.internet) say(`internet ${s.internet.address}`);
      return 0;
    }
    case 'exec': {
      needRoot();
      const s = loadState(dir);
      if (!s) throw new SandboxError(`no sandbox in ${dir}`);
      const target = positionals[0];
      const cmd = dash >= 0 ? rest.slice(dash + 1) : positionals.slice(1);
      const ns = target === 'internet' ? s.internet?.ns : s.vms.find((v) => v.name === target)?.ns;
      if (!ns) throw new SandboxError(`no VM ${target ?? '(none given)'}: ${[...s.vms.map((v) => v.name), 'internet'].join(', ')}`);
      if (cmd.length === 0) throw new SandboxError('exec VM -- COMMAND...: no command given');
      return new Promise((done) => {
        const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'inherit' });
        child.on('error', () => done(127));
        child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
      });
    }
    case 'down':
      needRoot();
      await sandboxDown(dir, say);
      return 0;
    default:
      console.log(SANDBOX_USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
