/**
 * `midonet sandbox` as a newcomer runs it: up with two hypervisors, VMs that reach each other
 * across hosts, the internet through SNAT and back through a floating IP, then down, after a
 * kill -9 of one of its agents, leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../helpers/cluster.ts';

const run = promisify(execFile);
const MIDONET = fileURLToPath(new URL('../../bin/midonet.js', import.meta.url));

interface Status {
  api: string;
  console: string;
  internet: string;
  vms: { name: string; host: string; ip: string; floatingIp: string | null }[];
}

describe('midonet sandbox', { timeout: 180_000 }, () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sandbox-test-')), 'sbx');
  const sandbox = (...args: string[]) => run(process.execPath, [MIDONET, 'sandbox', ...args, '--dir', dir], { timeout: 120_000 });
  const exec = (vm: string, ...cmd: string[]) => run(process.execPath, [MIDONET, 'sandbox', 'exec', '--dir', dir, vm, '--', ...cmd], { timeout: 30_000 })
    .then(() => 0, (e: { code: number }) => e.code);
  let status: Status;
  let tag = '';

  before(async () => {
    const t0 = Date.now();
    const up = await sandbox('up', '--hosts', '2', '--port', String(await freePort()));
    console.log(JSON.stringify({ test: 'sandbox', metric: 'up_seconds', value: (Date.now() - t0) / 1000 }));
    console.log(up.stdout);
    assert.match(up.stdout, /cluster up/);
    assert.match(up.stdout, /4 VMs with DHCP leases/);
    status = JSON.parse((await sandbox('status', '--json')).stdout) as Status;
    tag = (JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as { tag: string }).tag;
  });
  after(async () => {
    await sandbox('down').catch(() => undefined);
  });

  it('reports its API, console, internet and VMs (spread over both hosts, with leases)', () => {
    assert.match(status.api, /^http:\/\/127\.0\.0\.1:\d+\/midonet-api$/);
    assert.equal(status.console, status.api.replace(/midonet-api$/, 'console'));
    assert.equal(status.vms.length, 4);
    assert.deepEqual(new Set(status.vms.map((v) => v.host)), new Set(['host1', 'host2']));
    for (const v of status.vms) assert.match(v.ip, /^192\.168\.(10|20)\.\d+$/);
    assert.ok(status.vms[0]!.floatingIp);
  });

  it('pings VM to VM across hosts and networks, the first packet included', async () => {
    const [vm1, vm2] = status.vms;
    assert.notEqual(vm1!.host, vm2!.host);
    assert.equal(await exec('vm1', 'ping', '-c', '1', '-W', '3', vm2!.ip), 0);
  });

  it('reaches the internet through SNAT (the internet has no route back to the tenant networks)', async () => {
    assert.equal(await exec('vm2', 'ping', '-c', '2', '-W', '3', status.internet), 0);
  });

  it('is reached from the internet through the floating IP', async () => {
    assert.equal(await exec('internet', 'ping', '-c', '2', '-W', '3', status.vms[0]!.floatingIp!), 0);
  });

  it('refuses a second sandbox in the same folder, and exec of an unknown VM, with one line', async () => {
    const again = await sandbox('up').then(() => null, (e: { code: number; stderr: string }) => e);
    assert.equal(again?.code, 1);
    assert.match(again!.stderr, /^midonet: a sandbox is already in /);
    assert.equal(await exec('vm9', 'true'), 1);
  });

  it('comes down after a kill -9 of an agent, leaving no namespace, process, interface or file; twice', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as { agents: { pid: number }[] };
    process.kill(state.agents[0]!.pid, 'SIGKILL');
    await sandbox('down');
    const { stdout: ns } = await run('ip', ['netns', 'list']);
    assert.doesNotMatch(ns, new RegExp(`sbx${tag}`));
    const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(links, new RegExp(`sbx${tag}|s${tag}`));
    const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dir}/`);
      } catch {
        return false;
      }
    });
    assert.deepEqual(left, []);
    assert.equal(existsSync(dir), false);
    assert.match((await sandbox('down')).stdout, /no sandbox in/);
  });
});
