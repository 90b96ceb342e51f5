/** Finding 10: logins are throttled, any password works, tokens outlive the process, and every client carries one. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ADMIN, SecureCluster } from '../helpers/secure-cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';

const run = promisify(execFile);
const MN_CONF = fileURLToPath(new URL('../../bin/mn-conf.js', import.meta.url));

describe('login and credentials', { timeout: 120_000 }, () => {
  let c: SecureCluster;
  before(async () => {
    c = await SecureCluster.start();
  });
  after(() => c?.stop());

  it('keeps tokens over a restart of the cluster', async () => {
    const token = await c.token(ADMIN.name, ADMIN.password);
    assert.equal((await c.call(token, 'GET', '/routers')).status, 200);
    await c.restart();
    assert.equal((await c.call(token, 'GET', '/routers')).status, 200, 'the token still works');
  });

  it('gives mn-conf and agents their credentials; a host credential opens only its own host', async () => {
    const env = { ...process.env, MIDONET_CLUSTER_URL: c.url, HOME: c.dir };
    const refused = await run(process.execPath, [MN_CONF, 'dump'], { env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((refused as { code: number }).code, 1);
    assert.equal((refused as { stderr: string }).stderr.trim().split('\n').length, 1);
    const ok = await run(process.execPath, [MN_CONF, 'dump'], { env: { ...env, MIDO_USER: ADMIN.name, MIDO_PASSWORD: ADMIN.password } });
    assert.match(ok.stdout, /agent/);
    writeFileSync(join(c.dir, '.midonetrc'), `[cli]\nusername = ${ADMIN.name}\npassword = ${ADMIN.password}\n`);
    assert.match((await run(process.execPath, [MN_CONF, 'dump'], { env })).stdout, /agent/);

    const admin = await c.token(ADMIN.name, ADMIN.password);
    writeFileSync(join(c.dir, 'host-1.credentials'), 'username=host-1\npassword=host-1-pw\n');
    const agent = await VirtualAgent.start(c.url, c.dir, 'cred-agent', ['--credentials', join(c.dir, 'host-1.credentials')], { token: admin, id: c.hosts[0] });
    try {
      assert.equal((await c.call(admin, 'GET', `/hosts/${c.hosts[0]}`)).json.alive, true, 'registered and alive with its own credential');
      const host = await c.token('host-1', 'host-1-pw');
      assert.equal((await c.call(host, 'GET', `/hosts/${c.hosts[0]}`)).status, 200);
      assert.equal((await c.call(host, 'GET', `/hosts/${c.hosts[1]}`)).status, 401);
      assert.equal((await c.call(host, 'GET', '/routers')).status, 401);
      assert.equal((await c.call(host, 'POST', '/hosts', { id: c.hosts[1], name: 'not me' })).status, 401);
    } finally {
      await agent.stop();
    }
  });
  // Last: the guesser's address (loopback, as every test's) waits afterwards.
  it('logs in with a password holding colons, and makes a guesser wait even once it guesses right', async () => {
    assert.equal((await c.login(ADMIN.name, ADMIN.password)).status, 200);
    let throttled = 0;
    for (let i = 0; i < 300; i++) {
      const r = await c.login('alice', `guess-${i}`);
      assert.ok(r.status === 401 || r.status === 429, String(r.status));
      if (r.status === 429) throttled++;
    }
    assert.ok(throttled > 250, `only ${throttled} of 300 guesses were throttled`);
    const right = await c.login('alice', 'alice-pw');
    assert.equal(right.status, 429, 'the right password is refused while the guesser waits');
    assert.ok(Number(right.retryAfter) > 0);
    assert.equal(right.token, null);
  });

});
