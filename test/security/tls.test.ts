/** The APIs and the topology stream over TLS, since agents now carry credentials. */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClusterProcess } from '../helpers/cluster.ts';

const MIDOLMAN = fileURLToPath(new URL('../../bin/midolman.js', import.meta.url));

describe('TLS for the API and the topology stream', { timeout: 60_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let ca: Buffer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** GET over HTTPS, trusting the test's certificate. */
  const get = (url: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    request(url, { ca, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });

  it('answers over HTTPS only, and an agent that trusts the certificate joins over wss', async () => {
    assert.equal(cluster.url.startsWith('https://'), true);
    assert.equal((await get(cluster.url)).status, 200);
    await assert.rejects(fetch(cluster.url.replace('https', 'http')));
    const id = randomUUID();
    writeFileSync(join(dir, 'host.id'), `host_uuid=${id}\n`);
    const agent = spawn(process.execPath, [MIDOLMAN, '--datapath', 'none', '--cluster', cluster.url, '--host-id-file', join(dir, 'host.id'),
      '--binding-socket', join(dir, 'agent.sock'), '--host-name', 'tls-agent', '--state-dir', join(dir, 'state')],
    { stdio: 'ignore', env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } });
    try {
      const end = Date.now() + 20_000;
      for (;;) {
        const r = await get(`${cluster.url}/hosts/${id}`);
        if (r.status === 200 && (JSON.parse(r.body) as { alive: boolean }).alive) break;
        assert.ok(Date.now() < end, 'the agent did not join over TLS');
        await new Promise((res) => setTimeout(res, 200));
      }
    } finally {
      agent.kill('SIGKILL');
    }
  });
});
