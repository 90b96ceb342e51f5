/**
 * The metadata proxy: enabled through the seeds' mn-conf lines, it answers VMs' requests to
 * 169.254.169.254 from a metadata server (here a small one in the test that checks signatures as
 * Nova does), naming each VM by its own port whatever the VM claims.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Lab, metrics, nsExec, type LabHost, type LabVm } from '../helpers/lab.ts';

const exec = promisify(execFile);
const MN_CONF = fileURLToPath(new URL('../../bin/mn-conf.js', import.meta.url));
const SECRET = 'shared_secret';

describe('metadata proxy', { timeout: 180_000 }, () => {
  let lab: Lab;
  let host: LabHost;
  let vm1: LabVm;
  let vm2: LabVm;
  let server: Server;
  const seen: IncomingHttpHeaders[] = [];
  const ids: Record<string, string> = {};

  async function neutron(path: string, key: string, body: Record<string, unknown>): Promise<any> {
    const r = await fetch(`http://127.0.0.1:${lab.cluster.neutronPort}/v2.0/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [key]: body }) });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json())[key];
  }
  const get = (vm: LabVm, path: string, headers: string[] = []) =>
    nsExec(vm.ns, ['curl', '-s', '-m', '5', ...headers.flatMap((h) => ['-H', h]), `http://169.254.169.254${path}`]);

  before(async () => {
    lab = await Lab.create();
    // Nova's metadata API, as far as this test needs it: checks the signature, answers the id.
    server = createServer((req, res) => {
      seen.push(req.headers);
      const id = String(req.headers['x-instance-id'] ?? '');
      const sig = createHmac('sha256', SECRET).update(id).digest('hex');
      if (!id || req.headers['x-instance-id-signature'] !== sig) return void res.writeHead(403).end('Invalid proxy request signature.');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(req.url === '/latest/meta-data/instance-id' ? id : `${req.url}`);
    });
    await new Promise<void>((r) => server.listen(0, lab.gateway, () => r()));
    const port = (server.address() as { port: number }).port;
    host = await lab.addHost('compute1');
    vm1 = await lab.addVm(host, { mac: 'fa:16:3e:00:01:01', cidr: '10.60.0.11/24', gateway: '10.60.0.1' });
    vm2 = await lab.addVm(host, { mac: 'fa:16:3e:00:01:02', cidr: '10.60.0.12/24' });
    // vm2 reaches the metadata address on its link (some images route 169.254.0.0/16 so).
    await nsExec(vm2.ns, ['ip', 'route', 'add', '169.254.0.0/16', 'dev', 'eth0']);
    const net = (await neutron('networks', 'network', { name: 'n' })).id;
    const sub = (await neutron('subnets', 'subnet', { network_id: net, cidr: '10.60.0.0/24' })).id;
    const router = (await neutron('routers', 'router', { name: 'r' })).id;
    await fetch(`http://127.0.0.1:${lab.cluster.neutronPort}/v2.0/routers/${router}/add_router_interface`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subnet_id: sub }) });
    for (const [vm, name, ip] of [[vm1, 'instance-1', '10.60.0.11'], [vm2, 'instance-2', '10.60.0.12']] as const) {
      const p = await neutron('ports', 'port', {
        network_id: net, mac_address: vm.mac, fixed_ips: [{ ip_address: ip }], device_owner: 'compute:nova', device_id: name,
        tenant_id: 'tenant-a', 'binding:host_id': host.name, 'binding:profile': { interface_name: vm.ifname },
      });
      ids[name] = p.id;
      await lab.until(async () => (await lab.call('GET', `/ports/${p.id}`)).json.active === true, `${name} bound`);
    }
    // The seeds' lines (quickstart chapter 9), through the cluster.
    const env = { ...process.env, MIDO_BOOTSTRAP_FILES: '/nonexistent', MIDONET_CLUSTER_URL: lab.api };
    for (const line of [`agent.openstack.metadata.nova_metadata_url : "http://${lab.gateway}:${port}"`, `agent.openstack.metadata.shared_secret : ${SECRET}`, 'agent.openstack.metadata.enabled : true']) {
      const p = execFile(process.execPath, [MN_CONF, 'set', '-t', 'default'], { env });
      p.stdin!.end(`${line}\n`);
      await new Promise<void>((resolve, reject) => p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mn-conf set ${line}: ${code}`)))));
    }
    await lab.until(async () => (await metrics(lab, host)).metadata.enabled === true, 'metadata proxy on', 20_000);
  });
  after(async () => {
    server?.close();
    await lab?.destroy();
  });

  it('answers each VM with its own instance id, routed or on its link', async () => {
    const a = await get(vm1, '/latest/meta-data/instance-id');
    assert.equal(a.stdout, 'instance-1', a.stderr + JSON.stringify(await metrics(lab, host)));
    const b = await get(vm2, '/latest/meta-data/instance-id');
    assert.equal(b.stdout, 'instance-2', b.stderr);
    const last = seen.at(-1)!;
    assert.equal(last['x-tenant-id'], 'tenant-a');
    assert.equal(last['x-forwarded-for'], '10.60.0.12');
  });

  it('ignores what a VM claims: no VM gets another VM\'s metadata', async () => {
    const forged = await get(vm1, '/latest/meta-data/instance-id', ['X-Instance-ID: instance-2', `X-Instance-ID-Signature: ${createHmac('sha256', SECRET).update('instance-2').digest('hex')}`]);
    assert.equal(forged.stdout, 'instance-1');
  });

  it('the metadata server refuses a request whose signature does not match', async () => {
    const port = (server.address() as { port: number }).port;
    const r = await exec('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'X-Instance-ID: instance-2', '-H', 'X-Instance-ID-Signature: forged', `http://${lab.gateway}:${port}/latest/meta-data/instance-id`]);
    assert.equal(r.stdout, '403');
  });
});
