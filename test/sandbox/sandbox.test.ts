/**
 * `midonet sandbox` as a newcomer runs it: up with two hypervisors, VMs that reach each other
 * across hosts, the internet through SNAT and back through a floating IP, then down, after a
 * kill -9 of one of its agents, leaving nothing behind. On the way, the web console draws it in
 * a real headless Chromium.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TestBrowser } from '../helpers/browser.ts';
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

  it('is drawn live by the web console: graph, a port set down recoloured within 2 s, a trace on the graph', { timeout: 60_000 }, async () => {
    const state = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as { vms: { name: string; portId: string }[] };
    const portOf = (vm: string) => state.vms.find((v) => v.name === vm)!.portId;
    const browser = await TestBrowser.launch();
    try {
      const page = await browser.page(status.console);
      type Handle = { midonetConsole: { cy: import('cytoscape').Core } };
      await page.waitForFunction(() => {
        const c = (window as unknown as Handle).midonetConsole;
        return c !== undefined && c.cy.nodes('[kind="vm"]').length === 4 && c.cy.nodes('[kind="host"][state="alive"]').length === 2;
      }, { timeout: 15_000 });
      const nodes = await page.evaluate(() => (window as unknown as Handle).midonetConsole.cy.nodes().map((n) => `${n.data('kind') as string}:${(n.data('label') as string).split('\n')[0]}`));
      for (const n of ['router:router1', 'bridge:net-a', 'bridge:net-b', 'bridge:public', 'vm:vm1', 'vm:vm2', 'vm:vm3', 'vm:vm4', 'host:host1', 'host:host2']) assert.ok(nodes.includes(n), `${n} in ${nodes.join(' ')}`);

      // vm2's port set down through the MidoNet API: its node changes colour.
      const colour = (id: string) => page.evaluate((i) => (window as unknown as Handle).midonetConsole.cy.getElementById(i).style('background-color') as string, id);
      const port = portOf('vm2');
      const before = await colour(port);
      const api = (method: string, body?: unknown) => fetch(`${status.api}/ports/${port}`, { method, headers: { accept: 'application/json', 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      const dto = await (await api('GET')).json() as Record<string, unknown>;
      const t0 = Date.now();
      assert.equal((await api('PUT', { ...dto, adminStateUp: false })).status, 204);
      await page.waitForFunction((i, b) => (window as unknown as Handle).midonetConsole.cy.getElementById(i).style('background-color') !== b, { timeout: 2000, polling: 50 }, port, before);
      console.log(JSON.stringify({ test: 'console', metric: 'port_down_recoloured_ms', value: Date.now() - t0 }));
      assert.equal((await api('PUT', { ...dto, adminStateUp: true })).status, 204);
      await page.waitForFunction((i, b) => (window as unknown as Handle).midonetConsole.cy.getElementById(i).style('background-color') === b, { timeout: 5000 }, port, before);

      // A trace from vm1 to vm2 is drawn over the ports, bridges and the router it crosses.
      await page.select('#trace select[name="inPort"]', portOf('vm1'));
      await page.type('#trace input[name="dstIp"]', status.vms[1]!.ip);
      await page.click('#trace button');
      await page.waitForFunction(() => (window as unknown as Handle).midonetConsole.cy.$('node.traced').length >= 5, { timeout: 10_000 });
      const traced = await page.evaluate(() => (window as unknown as Handle).midonetConsole.cy.$('node.traced').map((n) => `${n.data('kind') as string}:${(n.data('label') as string)}`));
      for (const n of ['vm:vm1', 'bridge:net-a', 'router:router1', 'bridge:net-b', 'vm:vm2']) assert.ok(traced.includes(n), `${n} traced: ${traced.join(' ')}`);
      assert.match(await page.$eval('#trace-result', (e) => e.textContent ?? ''), /^forward/);

      // An object's panel: its fields, and its chains' rules as midonet-cli prints them.
      await page.evaluate((i) => (window as unknown as Handle).midonetConsole.cy.getElementById(i).emit('tap'), portOf('vm1'));
      await page.waitForFunction(() => document.querySelectorAll('#details .rule').length > 0, { timeout: 5000 });
      assert.match(await page.$eval('#details', (e) => e.textContent ?? ''), /inbound chain[\s\S]*rule \S+ type/);

      const shot = join(tmpdir(), `midonet-console-${process.pid}.png`);
      await page.screenshot({ path: shot });
      console.log(`console screenshot: ${shot}`);
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
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
