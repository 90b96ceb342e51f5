import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './cluster.ts';

const exec = promisify(execFile);

/** Keystone's WSGI application under Python's own server: one process, enough for tests. */
const SERVE = `import sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
port = int(sys.argv[1])
sys.argv = sys.argv[:1]
from keystone.server.wsgi import initialize_public_application
class Quiet(WSGIRequestHandler):
    def log_message(self, *a): pass
make_server('127.0.0.1', port, initialize_public_application(), handler_class=Quiet).serve_forever()
`;

/**
 * A real Keystone (Debian's `keystone`) on sqlite with fernet tokens, bootstrapped with an `admin`
 * user (password `secret`) holding the `admin` role in the `admin` project, in its own directory.
 */
export class KeystoneProcess {
  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(dir: string): Promise<KeystoneProcess> {
    for (const d of ['fernet', 'cred']) mkdirSync(join(dir, d), { recursive: true });
    const conf = join(dir, 'keystone.conf');
    writeFileSync(conf, `[DEFAULT]\nlog_dir = ${dir}\n[database]\nconnection = sqlite:///${dir}/keystone.db\n[token]\nprovider = fernet\n` +
      `[fernet_tokens]\nkey_repository = ${dir}/fernet\n[fernet_receipts]\nkey_repository = ${dir}/fernet\n[credential]\nkey_repository = ${dir}/cred\n`);
    const port = await freePort();
    const manage = (...args: string[]) => exec('keystone-manage', ['--config-file', conf, ...args], { timeout: 120_000 });
    await manage('db_sync');
    await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    const v3 = `http://127.0.0.1:${port}/v3`;
    await manage('bootstrap', '--bootstrap-password', 'secret', '--bootstrap-admin-url', v3, '--bootstrap-public-url', v3, '--bootstrap-region-id', 'RegionOne');
    // Keystone can leave a read open on one pooled connection after a refused token; in sqlite's
    // default journal that blocks every later write ("database is locked"), in WAL it does not.
    await exec('/usr/bin/python3', ['-c', `import sqlite3; sqlite3.connect('${dir}/keystone.db').execute('pragma journal_mode=wal')`]);
    writeFileSync(join(dir, 'serve.py'), SERVE);
    const out = openSync(join(dir, 'serve.out'), 'a');
    const proc = spawn('/usr/bin/python3', [join(dir, 'serve.py'), String(port)], { env: { ...process.env, OS_KEYSTONE_CONFIG_FILES: conf }, stdio: ['ignore', out, out] });
    const k = new KeystoneProcess(proc, port);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error('keystone exited');
      if (await fetch(`${k.url}/v3`).then((r) => r.ok, () => false)) return k;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('keystone did not start');
  }

  /** A password login, scoped to a project by name: the token. */
  async token(user: string, password: string, project: string): Promise<string> {
    const r = await fetch(`${this.url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { id: 'default' } } } }, scope: { project: { name: project, domain: { id: 'default' } } } } }),
    });
    if (r.status !== 201) throw new Error(`keystone login of ${user}: ${r.status}`);
    return r.headers.get('x-subject-token')!;
  }

  /** A call to Keystone's API as its admin. */
  private async call(method: string, path: string, body?: unknown): Promise<any> {
    const admin = await this.token('admin', 'secret', 'admin');
    const r = await fetch(`${this.url}/v3${path}`, { method, headers: { 'x-auth-token': admin, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    if (r.status >= 300) throw new Error(`keystone ${method} ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? null : r.json();
  }

  /** A service in the catalog with its public endpoint, as an operator registers Neutron: the endpoint's id. */
  async catalog(type: string, name: string, url: string): Promise<string> {
    const service = (await this.call('POST', '/services', { service: { type, name } })).service.id as string;
    return (await this.call('POST', '/endpoints', { endpoint: { service_id: service, interface: 'public', url, region_id: 'RegionOne' } })).endpoint.id;
  }

  /** An endpoint moved to another URL (the service now served elsewhere). */
  async setEndpoint(id: string, url: string): Promise<void> {
    await this.call('PATCH', `/endpoints/${id}`, { endpoint: { url } });
  }

  /** As the admin: a project, a user with a password and a role in it. Returns the project id. */
  async userInProject(user: string, password: string, project: string, role: string): Promise<string> {
    const p = (await this.call('POST', '/projects', { project: { name: project, domain_id: 'default' } })).project.id as string;
    const u = (await this.call('POST', '/users', { user: { name: user, password, domain_id: 'default', default_project_id: p } })).user.id as string;
    const roles = (await this.call('GET', `/roles?name=${role}`)).roles as { id: string }[];
    const r = roles[0]?.id ?? (await this.call('POST', '/roles', { role: { name: role } })).role.id;
    await this.call('PUT', `/projects/${p}/users/${u}/roles/${r}`);
    return p;
  }

  stop(): void {
    this.proc.kill('SIGKILL');
  }
}
