import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ENV_SH = fileURLToPath(new URL('../../integrations/openstack/env.sh', import.meta.url));

/**
 * integrations/openstack/env.sh as an operator runs it: neutron-server with networking-midonet in
 * `dir`, in front of the cluster API at `api`, on `port`; `env` adds its variables (KEYSTONE_URL,
 * MIDONET_*). What it prints comes back.
 */
export async function neutronServerUp(dir: string, api: string, port: number, env: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<string> {
  return (await exec(ENV_SH, ['up', dir, api, String(port)], { env: { ...process.env, ...env }, timeout })).stdout;
}

/** Stops the neutron-server `neutronServerUp` started in `dir`. */
export async function neutronServerDown(dir: string): Promise<void> {
  await exec(ENV_SH, ['down', dir]);
}

/**
 * The real `openstack` CLI run with the environment `env()` gives at call time (the endpoint is
 * known only once the servers are up); what prints objects (create, show, list) comes back parsed.
 */
// The CLI prints every resource's own shape; typing each would restate the API in the tests.
export function openstackCli(env: () => NodeJS.ProcessEnv): (...args: string[]) => Promise<any> {
  return async (...args) => {
    const json = ['create', 'show', 'list'].some((v) => args.includes(v)) ? ['-f', 'json'] : [];
    const { stdout } = await exec('openstack', [...args, ...json], { env: { ...process.env, ...env() } });
    return json.length > 0 ? JSON.parse(stdout) : stdout;
  };
}

/** GET from the MidoNet API at `base()`, any media type (some resources answer only their vendor type); 200 or the test fails. */
export function midonetGetter(base: () => string): (path: string) => Promise<any> {
  return async (path) => {
    const r = await fetch(`${base()}${path}`, { headers: { accept: '*/*' } });
    assert.equal(r.status, 200, `GET ${path}`);
    return r.json();
  };
}
