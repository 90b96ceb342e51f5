/**
 * Neutron's own API tests (Debian's tempest, `tempest.api.network`) against our Neutron API and
 * against neutron-server with networking-midonet in front of our cluster, both behind a real
 * Keystone. Exits non-zero when a test fails in either; prints every skip with tempest's reason.
 *
 *   node --import tsx test/tempest/run.ts [ours|neutron-server ...] [--regex R] [--keep]
 *
 * Against neutron-server the tests run one at a time: on sqlite under eventlet, a second writer
 * waits for the database lock without yielding to the first ("database is locked").
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { KeystoneProcess } from '../helpers/keystone.ts';
import { neutronServerDown, neutronServerUp } from '../helpers/openstack.ts';

const exec = promisify(execFile);
const TARGETS = ['ours', 'neutron-server'] as const;
type Target = (typeof TARGETS)[number];
const CONCURRENCY: Record<Target, number> = { ours: 4, 'neutron-server': 1 };
/**
 * What neutron-server lists but a MidoNet cloud does not run: Neutron's DHCP agents (midolman
 * serves DHCP itself), so no agent is there to list or schedule networks on.
 */
const NOT_DEPLOYED = new Set(['agent', 'dhcp_agent_scheduler']);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { regex: { type: 'string', default: '^tempest\\.api\\.network' }, keep: { type: 'boolean', default: false } },
});
const targets = positionals.length > 0 ? positionals : [...TARGETS];
for (const t of targets) if (!(TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target ${t}: one of ${TARGETS.join(', ')}`);

const dir = mkdtempSync(join(tmpdir(), 'tempest-'));
const log = (msg: string) => console.log(`[tempest] ${msg}`);

/** A Neutron API call as Keystone's admin. */
async function neutron(endpoint: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${endpoint}/v2.0${path}`, { method, headers: { 'x-auth-token': token, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

/**
 * What tempest needs in the cloud before it starts, as an operator makes it: an external network
 * with a subnet to take floating IPs from. Returns its id and the extensions the API offers.
 */
async function prepare(endpoint: string, token: string): Promise<{ publicNet: string; extensions: string[] }> {
  const net = (await neutron(endpoint, token, 'POST', '/networks', { network: { name: 'public', 'router:external': true } })).network;
  await neutron(endpoint, token, 'POST', '/subnets', { subnet: { network_id: net.id, cidr: '172.24.4.0/24', ip_version: 4, enable_dhcp: false, name: 'public-subnet' } });
  const extensions = ((await neutron(endpoint, token, 'GET', '/extensions')).extensions as { alias: string }[]).map((e) => e.alias).filter((a) => !NOT_DEPLOYED.has(a));
  return { publicNet: net.id, extensions };
}

function tempestConf(work: string, keystone: KeystoneProcess, publicNet: string, extensions: string[]): string {
  return `[DEFAULT]
log_dir = ${work}/logs
log_file = tempest.log
[oslo_concurrency]
lock_path = ${work}/tempest_lock
[auth]
admin_username = admin
admin_password = secret
admin_project_name = admin
admin_domain_name = Default
use_dynamic_credentials = true
[identity]
uri_v3 = ${keystone.url}/v3
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[network]
public_network_id = ${publicNet}
floating_network_name = public
[network-feature-enabled]
api_extensions = ${extensions.join(',')}
ipv6 = false
[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
`;
}

/**
 * Why tempest may skip here (see integrations/openstack/README.md): a skip for any other reason
 * fails the run, so a setting that quietly switches tests off cannot pass for a pass.
 */
const EXPLAINED_SKIPS = [
  /^IPv6 Tests are disabled\.$/,
  /^(dhcp_agent_scheduler|metering|dvr|DVR) extension not enabled\.$/,
  /^Skipped because the compute service is not available$/,
  // Zed lists tags as standard-attr-tag only; the old network-only `tag` alias is gone.
  /^tag extension not enabled\.$/,
];

/** `tempest run` in a fresh workspace; true when nothing failed, something passed, and every skip is explained. */
async function runTempest(name: Target, conf: string): Promise<boolean> {
  const work = join(dir, `ws-${name}`);
  const workspace = `midonet-ts-${name}-${process.pid}`;
  await exec('tempest', ['init', '--name', workspace, work]);
  try {
    writeFileSync(join(work, 'etc', 'tempest.conf'), conf);
    let out = '';
    const code = await new Promise<number>((resolve) => {
      const p = spawn('tempest', ['run', '--regex', values.regex!, '--concurrency', String(CONCURRENCY[name])], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] });
      p.stdout.on('data', (d: Buffer) => {
        process.stdout.write(d);
        out += d;
      });
      p.on('exit', (c) => resolve(c ?? 1));
    });
    const unexplained = [...out.matchAll(/^(.*) \.\.\. SKIPPED: (.*)$/gm)].filter(([, , why]) => !EXPLAINED_SKIPS.some((r) => r.test(why!.trim())));
    for (const [, test, why] of unexplained) log(`${name}: unexplained skip: ${test} (${why})`);
    const passed = Number(/^ - Passed: (\d+)$/m.exec(out)?.[1] ?? 0);
    return code === 0 && passed > 0 && unexplained.length === 0;
  } finally {
    await exec('tempest', ['workspace', 'remove', '--name', workspace]).catch(() => undefined);
  }
}

async function main(): Promise<number> {
  log(`working in ${dir}`);
  const keystone = await KeystoneProcess.start(join(dir, 'keystone'));
  let cluster: ClusterProcess | undefined;
  const results: Record<string, boolean> = {};
  try {
    const args = ['--data-dir', join(dir, 'nsdb')];
    cluster = await ClusterProcess.start(args);
    const admin = await keystone.token('admin', 'secret', 'admin');
    // As the seeds configure it: the cluster takes Keystone's tokens, its service user is admin.
    const r = await fetch(`${cluster.url}/conf/templates/default`, {
      method: 'POST', headers: { 'content-type': 'text/plain' }, body: [
        'cluster.auth.provider_class = "org.midonet.cluster.auth.keystone.KeystoneService"',
        `cluster.auth.keystone.url = "${keystone.url}/v3"`, 'cluster.auth.keystone.tenant_name = admin', 'cluster.auth.keystone.domain_id = default',
        'cluster.auth.keystone.user_name = admin', 'cluster.auth.keystone.user_password = secret',
        'cluster.auth.admin_role = admin', 'cluster.auth.tenant_user_role = member', 'cluster.auth.tenant_admin_role = tenant_admin',
      ].join('\n'),
    });
    if (r.status !== 204) throw new Error(`mn-conf: ${r.status} ${await r.text()}`);
    await cluster.stop();
    cluster = await ClusterProcess.start(args);

    const endpoints: Record<Target, string> = { ours: cluster.neutronUrl, 'neutron-server': '' };
    if (targets.includes('neutron-server')) {
      const port = await freePort();
      await neutronServerUp(join(dir, 'openstack'), cluster.url, port, { KEYSTONE_URL: `${keystone.url}/v3`, MIDONET_PASSWORD: 'secret' }, 180_000);
      endpoints['neutron-server'] = `http://127.0.0.1:${port}`;
    }
    const endpoint = await keystone.catalog('network', 'neutron', endpoints[targets[0] as Target]);
    for (const target of targets as Target[]) {
      await keystone.setEndpoint(endpoint, endpoints[target]);
      log(`${target}: ${endpoints[target]}`);
      const { publicNet, extensions } = await prepare(endpoints[target], admin);
      log(`${target}: extensions ${extensions.join(',')}`);
      results[target] = await runTempest(target, tempestConf(join(dir, `ws-${target}`), keystone, publicNet, extensions));
      log(`${target}: ${results[target] ? 'no failures' : 'FAILURES'}`);
    }
  } finally {
    await neutronServerDown(join(dir, 'openstack')).catch(() => undefined);
    await cluster?.stop();
    keystone.stop();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  for (const [t, ok] of Object.entries(results)) log(`${t}: ${ok ? 'passed' : 'failed'}`);
  return Object.values(results).every(Boolean) && Object.keys(results).length === targets.length ? 0 : 1;
}

process.exitCode = await main();
