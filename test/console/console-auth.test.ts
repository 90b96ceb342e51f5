/**
 * The web console behind authentication, in a real headless Chromium: a login page first, a wrong
 * password refused, then the live graph over the session's cookie; a non-admin user is told the
 * console is not for them, and the topology stream refuses a browser without a session.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Core } from 'cytoscape';
import { TestBrowser } from '../helpers/browser.ts';
import { ClusterProcess } from '../helpers/cluster.ts';

type Handle = { midonetConsole?: { cy: Core } };

describe('the web console with authentication on', { timeout: 120_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let browser: TestBrowser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'console-'));
    const users = join(dir, 'users.json');
    writeFileSync(users, JSON.stringify({ users: [
      { name: 'admin', password: 's3cret' },
      { name: 'alice', password: 'alice-pw', tenantId: 'alice-project', roles: ['tenant_user'] },
    ] }));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb'), '--auth-file', users]);
    const token = (await (await fetch(`${cluster.url}/login`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` } })).json() as { key: string }).key;
    const r = await fetch(`${cluster.url}/routers`, { method: 'POST', headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'edge' }) });
    assert.equal(r.status, 201);
    browser = await TestBrowser.launch();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const consoleUrl = () => cluster.url.replace(/midonet-api$/, 'console');

  it('asks for a login, refuses a wrong password, then draws the topology live', async () => {
    const page = await browser.page(consoleUrl());
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    assert.equal(await page.evaluate(() => (window as unknown as Handle).midonetConsole), undefined, 'nothing drawn before the login');
    await page.type('#login input[name="user"]', 'admin');
    await page.type('#login input[name="password"]', 'wrong');
    await page.click('#login button');
    await page.waitForFunction(() => document.querySelector('#login .error')?.textContent === 'wrong user or password', { timeout: 5000 });
    await page.$eval('#login input[name="password"]', (e) => ((e as HTMLInputElement).value = ''));
    await page.type('#login input[name="password"]', 's3cret');
    await page.click('#login button');
    await page.waitForFunction(() => (window as unknown as Handle).midonetConsole?.cy.nodes('[kind="router"]').length === 1, { timeout: 10_000 });
    assert.equal(await page.$eval('#status', (e) => e.textContent), 'live');
    // The one failed request is the wrong password's.
    assert.equal(browser.errors.length, 1, browser.errors.join('\n'));
    assert.match(browser.errors[0]!, /401/);
    await page.close();
  });

  it('tells a user who is not an admin that the console is not theirs', async () => {
    browser.errors.length = 0;
    const page = await browser.page(consoleUrl());
    const ctx = page.browserContext();
    await ctx.deleteCookie(...(await ctx.cookies()));
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
    await page.type('#login input[name="user"]', 'alice');
    await page.type('#login input[name="password"]', 'alice-pw');
    await page.click('#login button');
    await page.waitForFunction(() => /not an admin/.test(document.querySelector('#status')?.textContent ?? ''), { timeout: 5000 });
    assert.deepEqual(browser.errors, []);
    await page.close();
  });

  it('keeps the topology stream closed to a browser without a session', async () => {
    const page = await browser.page(`${consoleUrl()}/session`);
    const ctx = page.browserContext();
    await ctx.deleteCookie(...(await ctx.cookies()));
    const outcome = await page.evaluate((url) => new Promise<string>((resolve) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve('open');
      ws.onerror = () => resolve('refused');
    }), cluster.url.replace(/^http/, 'ws').replace(/\/midonet-api$/, '/topology'));
    assert.equal(outcome, 'refused');
  });
});
