import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freeUnderlay, inNs, ip, run, vethInto } from './host-net.ts';
import { binPath } from '../conf/paths.ts';
import { loadState, saveState, type SandboxState, type SandboxVm } from './state.ts';

export interface UpOptions {
  dir: string;
  hosts: number;
  vmsPerHost: number;
  /** The API's port; 8181 when free, else any free one. */
  port: number | null;
  say(line: string): void;
}

/** The tenant's two networks, the external one and the address that stands for the internet. */
const NETS = [
  { name: 'net-a', cidr: '192.168.10.0/24', gateway: '192.168.10.1' },
  { name: 'net-b', cidr: '192.168.20.0/24', gateway: '192.168.20.1' },
];
const EXTERNAL = { cidr: '172.24.4.0/24', gateway: '172.24.4.1' };
export const INTERNET_ADDRESS = '203.0.113.10';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

async function pickPort(wanted: number): Promise<number> {
  if (await portFree(wanted)) return wanted;
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = `: ${(err as Error).message}`;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last}`);
    await sleep(100);
  }
}

/** A daemon that outlives this command, its output in `log`. */
function daemon(cmd: string, args: string[], log: string): number {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
  child.unref();
  return child.pid!;
}

/** The cloud's calls: Neutron v2.0 (as Nova and the openstack CLI make them) and the MidoNet API (as an operator does). */
class Cloud {
  constructor(
    readonly api: string,
    readonly neutron: string,
  ) {}

  private async send(url: string, method: string, body?: unknown, media = 'application/json'): Promise<Response> {
    const r = await fetch(url, {
      method,
      headers: { accept: 'application/json', 'x-auth-token': 'sandbox', ...(body === undefined ? {} : { 'content-type': media }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${(await r.text()).slice(0, 200)}`);
    return r;
  }

  private async call(url: string, method: string, body?: unknown): Promise<unknown> {
    const text = await (await this.send(url, method, body)).text();
    return text ? (JSON.parse(text) as unknown) : null;
  }

  midonetGet = (path: string) => this.call(`${this.api}${path}`, 'GET');

  /** POSTs to the MidoNet API in the resource's media type; the new object's id, from its Location. */
  async midonetCreate(path: string, media: string, body: unknown): Promise<string> {
    return (await this.send(`${this.api}${path}`, 'POST', body, `application/vnd.org.midonet.${media}+json`)).headers.get('location')!.split('/').pop()!;
  }

  async create<T>(collection: string, key: string, body: Record<string, unknown>): Promise<T> {
    return ((await this.call(`${this.neutron}/v2.0/${collection}`, 'POST', { [key]: body })) as Record<string, T>)[key]!;
  }

  get = (path: string) => this.call(`${this.neutron}/v2.0/${path}`, 'GET');
  put = (path: string, body: unknown) => this.call(`${this.neutron}/v2.0/${path}`, 'PUT', body);
}

interface NeutronPort {
  id: string;
  status: string;
  fixed_ips: { ip_address: string }[];
}

/**
 * `midonet sandbox up`: a cluster, hypervisors as namespaces on an underlay bridge each with its
 * own midolman, a tunnel zone, and a tenant built through the Neutron API as a cloud builds it;
 * VMs take their addresses with dhclient. Everything made is recorded first in the state file.
 */
export async function sandboxUp(o: UpOptions): Promise<SandboxState> {
  if (loadState(o.dir)) throw new Error(`a sandbox is already in ${o.dir} (midonet sandbox down --dir ${o.dir} first)`);
  const t0 = Date.now();
  const step = (what: string) => o.say(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${what}`);
  const createdDir = !existsSync(o.dir);
  mkdirSync(o.dir, { recursive: true });
  const tag = randomUUID().slice(0, 4);
  const s: SandboxState = {
    tag, underlay: await freeUnderlay(), createdDir, api: null, console: null, neutron: null, clusterPid: null,
    agents: [], namespaces: [], links: [], vms: [], internet: null, ready: false,
  };
  const save = () => saveState(o.dir, s);
  save();
  const gatewayIp = `${s.underlay}.254`;

  // The underlay: a bridge in the root namespace, the cluster reached on its address.
  const bridge = `sbx${tag}`;
  s.links.push(bridge);
  save();
  await ip('link', 'add', bridge, 'type', 'bridge');
  await ip('addr', 'add', `${gatewayIp}/24`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');

  const port = o.port ?? (await pickPort(8181));
  const neutronPort = await pickPort(9696);
  s.clusterPid = daemon(process.execPath, [binPath('midonet-cluster'), '--port', String(port), '--host', '0.0.0.0', '--neutron-port', String(neutronPort),
    '--data-dir', join(o.dir, 'nsdb'), '--advertise-url', `http://${gatewayIp}:${port}/midonet-api`], join(o.dir, 'cluster.log'));
  s.api = `http://127.0.0.1:${port}/midonet-api`;
  s.console = `http://127.0.0.1:${port}/console`;
  s.neutron = `http://127.0.0.1:${neutronPort}`;
  save();
  await until('the cluster', 30_000, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
  step(`cluster up: ${s.api} (embedded NSDB in ${join(o.dir, 'nsdb')})`);
  const cloud = new Cloud(s.api, s.neutron);

  // Hypervisors: a namespace each, eth0 on the underlay, its own midolman.
  await Promise.all(Array.from({ length: o.hosts }, async (_, i) => {
    const name = `host${i + 1}`;
    const ns = `sbx${tag}-${name}`;
    const id = randomUUID();
    const agent = { name, ns, id, pid: null as number | null };
    s.agents.push(agent);
    s.namespaces.push(ns);
    s.links.push(`sbx${tag}u${i + 1}`);
    save();
    await ip('netns', 'add', ns);
    await vethInto(ns, `sbx${tag}u${i + 1}`, `sbx${tag}d${i + 1}`);
    await ip('link', 'set', `sbx${tag}u${i + 1}`, 'master', bridge);
    await ip('-n', ns, 'addr', 'add', `${s.underlay}.${i + 1}/24`, 'dev', 'eth0');
    writeFileSync(join(o.dir, `${name}.id`), `host_uuid=${id}\n`);
    agent.pid = daemon('ip', ['netns', 'exec', ns, process.execPath, binPath('midolman'), '--cluster', `http://${gatewayIp}:${port}/midonet-api`,
      '--host-id-file', join(o.dir, `${name}.id`), '--host-name', name, '--binding-socket', join(o.dir, `${name}.sock`),
      '--state-dir', join(o.dir, `${name}.state`)], join(o.dir, `${name}.log`));
    save();
    await until(`${name}'s agent`, 30_000, async () => ((await cloud.midonetGet(`/hosts/${id}`)) as { alive: boolean }).alive);
  }));
  step(`${o.hosts} hypervisors up, each a namespace running midolman`);

  const tz = await cloud.midonetCreate('/tunnel_zones', 'TunnelZone-v1', { name: 'sandbox', type: 'vxlan' });
  for (const [i, a] of s.agents.entries()) await cloud.midonetCreate(`/tunnel_zones/${tz}/hosts`, 'TunnelZoneHost-v1', { hostId: a.id, ipAddress: `${s.underlay}.${i + 1}` });
  step('tunnel zone "sandbox" (VXLAN) with every hypervisor');

  // The tenant, through Neutron.
  const nets: { id: string; subnet: string }[] = [];
  for (const n of NETS) {
    const net = await cloud.create<{ id: string }>('networks', 'network', { name: n.name });
    const sub = await cloud.create<{ id: string }>('subnets', 'subnet', { network_id: net.id, name: `${n.name}-subnet`, cidr: n.cidr, gateway_ip: n.gateway, ip_version: 4 });
    nets.push({ id: net.id, subnet: sub.id });
  }
  const ext = await cloud.create<{ id: string }>('networks', 'network', { name: 'public', 'router:external': true });
  await cloud.create('subnets', 'subnet', { network_id: ext.id, name: 'public-subnet', cidr: EXTERNAL.cidr, gateway_ip: EXTERNAL.gateway, ip_version: 4, enable_dhcp: false });
  const router = await cloud.create<{ id: string }>('routers', 'router', { name: 'router1', external_gateway_info: { network_id: ext.id } });
  for (const n of nets) await cloud.put(`routers/${router.id}/add_router_interface`, { subnet_id: n.subnet });
  step('tenant router with net-a 192.168.10.0/24 and net-b 192.168.20.0/24, gateway on public 172.24.4.0/24 (SNAT)');

  // The internet: a namespace on the public network, its router, with one address to reach.
  const internetNs = `sbx${tag}-internet`;
  s.internet = { ns: internetNs, address: INTERNET_ADDRESS };
  const internetIf = await plugVm(s, internetNs, 's' + tag + 'i0', 0, save);
  await cloud.create('ports', 'port', {
    name: 'internet', network_id: ext.id, mac_address: 'fa:16:3e:ff:00:01', device_owner: 'network:provider', port_security_enabled: false,
    fixed_ips: [{ ip_address: EXTERNAL.gateway }], 'binding:host_id': s.agents[0]!.name, 'binding:profile': { interface_name: internetIf },
  });
  await ip('-n', internetNs, 'link', 'set', 'eth0', 'address', 'fa:16:3e:ff:00:01');
  await ip('-n', internetNs, 'addr', 'add', `${EXTERNAL.gateway}/24`, 'dev', 'eth0');
  await ip('-n', internetNs, 'addr', 'add', `${INTERNET_ADDRESS}/32`, 'dev', 'lo');
  save();
  step(`internet namespace: ${INTERNET_ADDRESS}, the public network's router ${EXTERNAL.gateway}`);

  // VMs, spread over the hosts and the two networks, plugged as Nova plugs them.
  const vmCount = o.hosts * o.vmsPerHost;
  await Promise.all(Array.from({ length: vmCount }, async (_, i) => {
    const host = s.agents[i % o.hosts]!;
    const name = `vm${i + 1}`;
    const ns = `sbx${tag}-${name}`;
    const mac = `fa:16:3e:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const vm: SandboxVm = { name, host: host.name, ns, ip: null, floatingIp: null, portId: null };
    s.vms.push(vm);
    const ifname = await plugVm(s, ns, `s${tag}v${i + 1}`, s.agents.indexOf(host), save);
    await ip('-n', ns, 'link', 'set', 'eth0', 'address', mac);
    const p = await cloud.create<NeutronPort>('ports', 'port', {
      name, network_id: nets[i % nets.length]!.id, mac_address: mac, device_owner: 'compute:nova', device_id: name,
      'binding:host_id': host.name, 'binding:profile': { interface_name: ifname },
    });
    vm.portId = p.id;
  }));
  s.vms.sort((a, b) => Number(a.name.slice(2)) - Number(b.name.slice(2)));
  save();

  // The project's default group (made with its first port) lets in ping and SSH, as a newcomer expects to try them.
  const groups = (await cloud.get('security-groups?name=default')) as { security_groups: { id: string }[] };
  for (const g of groups.security_groups) {
    await cloud.create('security-group-rules', 'security_group_rule', { security_group_id: g.id, direction: 'ingress', protocol: 'icmp', remote_ip_prefix: '0.0.0.0/0' });
    await cloud.create('security-group-rules', 'security_group_rule', { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
  }

  // Each VM takes its address with dhclient once its port is up on its host.
  await Promise.all(s.vms.map(async (vm) => {
    await until(`${vm.name}'s port active`, 20_000, async () => ((await cloud.get(`ports/${vm.portId}`)) as { port: NeutronPort }).port.status === 'ACTIVE');
    vm.ip = await dhcp(o.dir, vm.ns, vm.name);
  }));
  save();
  s.vms.sort((a, b) => Number(a.name.slice(2)) - Number(b.name.slice(2)));
  step(`${vmCount} VMs with DHCP leases: ${s.vms.map((v) => `${v.name}@${v.host} ${v.ip}`).join(', ')}`);

  const first = s.vms[0]!;
  const fip = await cloud.create<{ floating_ip_address: string }>('floatingips', 'floatingip', { floating_network_id: ext.id, port_id: first.portId });
  first.floatingIp = fip.floating_ip_address;
  s.ready = true;
  save();
  step(`floating IP ${first.floatingIp} -> ${first.name}`);
  return s;
}

/**
 * A VM namespace whose eth0 is a veth into hypervisor `hostIndex`; returns the interface's name
 * on the host (what the port binds to).
 */
async function plugVm(s: SandboxState, ns: string, ifname: string, hostIndex: number, save: () => void): Promise<string> {
  const host = s.agents[hostIndex]!;
  s.namespaces.push(ns);
  save();
  await ip('netns', 'add', ns);
  await vethInto(ns, ifname, `${ifname}p`, { inNamespace: host.ns });
  return ifname;
}

/** The VM asks for its address with ISC dhclient, which stays to renew it; returns the address. */
async function dhcp(dir: string, ns: string, name: string): Promise<string> {
  // dhclient gives its script a clean environment: each VM's script names its own lease file.
  const script = join(dir, `${name}.dhclient-script`);
  const lease = join(dir, `${name}.lease`);
  writeFileSync(script, [
    '#!/bin/sh',
    'case "$reason" in BOUND|RENEW|REBIND|REBOOT)',
    '  ip addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"',
    '  [ -n "$new_routers" ] && ip route replace default via "${new_routers%% *}"',
    '  [ -n "$new_interface_mtu" ] && ip link set "$interface" mtu "$new_interface_mtu"',
    `  echo "$new_ip_address" > ${lease};;`,
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
  await run('ip', ['netns', 'exec', ns, 'dhclient', '-1', '-sf', script, '-lf', join(dir, `${name}.leases`), '-pf', join(dir, `${name}.dhclient.pid`), 'eth0']);
  return readFileSync(lease, 'utf8').trim();
}
