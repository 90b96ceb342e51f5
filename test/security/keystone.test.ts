/**
 * The cluster behind a real Keystone (Debian's), configured as the seeds do it through mn-conf's
 * cluster.auth keys: logins, token checks for the MidoNet and Neutron APIs, roles, the service
 * user or an admin token, and networking-midonet logging in with its [MIDONET] credentials.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { KeystoneProcess } from '../helpers/keystone.ts';
import { neutronServerDown, neutronServerUp, openstackCli } from '../helpers/openstack.ts';

describe('Keystone as the cluster.auth provider', { timeout: 300_000 }, () => {
  let dir: string;
  let keystone: KeystoneProcess;
  let cluster: ClusterProcess;
  let demo = '';
  const args = () => ['--data-dir', join(dir, 'nsdb')];
  const conf = async (hocon: string, token?: string) => {
    const r = await fetch(`${cluster.url}/conf/templates/default`, { method: 'POST', headers: { 'content-type': 'text/plain', ...(token ? { 'x-auth-token': token } : {}) }, body: hocon });
    assert.equal(r.status, 204, await r.text());
  };
  const restart = async () => {
    await cluster.stop();
    cluster = await ClusterProcess.start(args());
  };
  const api = (path: string, token?: string) => fetch(`${cluster.url}${path}`, { headers: { accept: '*/*', ...(token ? { 'x-auth-token': token } : {}) } });
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keystone-'));
    keystone = await KeystoneProcess.start(join(dir, 'keystone'));
    demo = await keystone.userInProject('alice', 'alice-pw', 'demo', 'member');
    cluster = await ClusterProcess.start(args());
    // As the seeds configure it: the provider, where Keystone is, the cluster's service user.
    await conf([
      'cluster.auth.provider_class = "org.midonet.cluster.auth.keystone.KeystoneService"',
      'cluster.auth.keystone.protocol = http', 'cluster.auth.keystone.host = "127.0.0.1"', `cluster.auth.keystone.port = ${keystone.port}`,
      'cluster.auth.keystone.tenant_name = admin', 'cluster.auth.keystone.domain_id = default',
      'cluster.auth.keystone.user_name = admin', 'cluster.auth.keystone.user_password = secret',
      'cluster.auth.admin_role = admin', 'cluster.auth.tenant_user_role = member', 'cluster.auth.tenant_admin_role = tenant_admin',
    ].join('\n'));
    await restart();
    // Registered before anything else: Keystone on sqlite can lock itself out of writes later.
    await keystone.catalog('network', 'neutron', cluster.neutronUrl);
  });
  after(async () => {
    await neutronServerDown(join(dir, 'openstack')).catch(() => undefined);
    await cluster?.stop();
    keystone?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in through Keystone and takes Keystone tokens; refuses the rest', async () => {
    assert.equal((await api('/routers')).status, 401);
    const bad = await fetch(`${cluster.url}/login`, { method: 'POST', headers: { authorization: basic('admin', 'wrong') } });
    assert.equal(bad.status, 401);
    const login = await fetch(`${cluster.url}/login`, { method: 'POST', headers: { authorization: basic('admin', 'secret'), 'x-auth-project': 'admin' } });
    assert.equal(login.status, 200);
    const { key } = (await login.json()) as { key: string };
    assert.equal((await api('/routers', key)).status, 200, 'a login token');
    assert.equal((await api('/routers', await keystone.token('admin', 'secret', 'admin'))).status, 200, "Keystone's own token");
    assert.equal((await api('/routers', 'gAAAAAnot-a-token')).status, 401);
    const tenants = (await (await api('/tenants', key)).json()) as { name: string }[];
    assert.ok(tenants.some((t) => t.name === 'demo'), 'tenants are Keystone projects');
  });

  it('maps roles: a project member is no MidoNet admin, and acts in its own project on the Neutron API', async () => {
    const alice = await keystone.token('alice', 'alice-pw', 'demo');
    assert.notEqual((await api('/routers', alice)).status, 200, 'the MidoNet API is the admin\'s');
    const neutron = (method: string, path: string, body?: unknown) =>
      fetch(`${cluster.neutronUrl}/v2.0/${path}`, { method, headers: { 'x-auth-token': alice, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const made = await neutron('POST', 'networks', { network: { name: 'alice-net' } });
    assert.equal(made.status, 201);
    assert.equal(((await made.json()) as { network: { project_id: string } }).network.project_id, demo);
    assert.equal((await neutron('POST', 'networks', { network: { name: 'ext', 'router:external': true } })).status, 403);
  });

  it('takes the openstack CLI with password auth on the Neutron API, found in the catalog', async () => {
    const os = openstackCli(() => ({
      HOME: dir, OS_AUTH_URL: `${keystone.url}/v3`, OS_USERNAME: 'alice', OS_PASSWORD: 'alice-pw', OS_PROJECT_NAME: 'demo',
      OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default', OS_IDENTITY_API_VERSION: '3',
    }));
    assert.deepEqual(((await os('network', 'list')) as { Name: string }[]).map((n) => n.Name), ['alice-net']);
  });

  it('lets networking-midonet log in with its [MIDONET] username, password and project', async () => {
    const port = await freePort();
    await neutronServerUp(join(dir, 'openstack'), cluster.url, port, { MIDONET_USERNAME: 'admin', MIDONET_PASSWORD: 'secret', MIDONET_PROJECT: 'admin' });
    const os = openstackCli(() => ({ HOME: dir, OS_AUTH_TYPE: 'none', OS_ENDPOINT: `http://127.0.0.1:${port}` }));
    const net = (await os('network', 'create', 'through-neutron-server')) as { id: string };
    const admin = await keystone.token('admin', 'secret', 'admin');
    assert.equal((await api(`/bridges/${net.id}`, admin)).status, 200, 'the plugin reached the cluster with a Keystone login');
    await neutronServerDown(join(dir, 'openstack'));
  });

  it('validates with an admin token instead of a service user, Keystone found by its url', async () => {
    const admin = await keystone.token('admin', 'secret', 'admin');
    await conf([
      `cluster.auth.keystone.admin_token = "${admin}"`, 'cluster.auth.keystone.user_password = ""', 'cluster.auth.keystone.user_name = ""',
      // The url wins over protocol, host and port.
      `cluster.auth.keystone.url = "${keystone.url}/v3"`, 'cluster.auth.keystone.host = "keystone.invalid"',
    ].join('\n'), admin);
    await restart();
    assert.equal((await api('/routers', await keystone.token('admin', 'secret', 'admin'))).status, 200);
    assert.equal((await api('/routers', 'gAAAAAnot-a-token')).status, 401);
  });
});
