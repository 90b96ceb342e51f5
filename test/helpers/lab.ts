import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClusterProcess } from './cluster.ts';

const run = promisify(execFile);
const MIDOLMAN = fileURLToPath(new URL('../../bin/midolman.js', import.meta.url));

export async function sh(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
}

/** Runs a command in a namespace; resolves with its exit code and output (never throws). */
export async function nsExec(ns: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('ip', ['netns', 'exec', ns, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface LabHost {
  name: string;
  ns: string;
  id: string;
  underlayIp: string;
  agent: ChildProcess;
  log: string[];
}

export interface LabVm {
  ns: string;
  /** The host-side interface a virtual port binds to. */
  ifname: string;
  mac: string;
  ip: string | null;
}

/**
 * A test lab: a cluster process, hosts as network namespaces on a private underlay bridge, each
 * running its own midolman, and VMs as namespaces with a veth whose other end sits in a host.
 * Everything it makes it removes in destroy(), also after a failure.
 */
export class Lab {
  readonly hosts: LabHost[] = [];
  readonly vms: LabVm[] = [];
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  cluster!: ClusterProcess;
  private constructor(
    readonly tag: string,
    readonly subnet: number,
    readonly dir: string,
  ) {}

  get gateway(): string {
    return `10.${this.subnet >> 8}.${this.subnet & 255}.254`;
  }

  get api(): string {
    return this.cluster.url;
  }

  /** The cluster as the hosts reach it, over the underlay. */
  get clusterForHosts(): string {
    return `http://${this.gateway}:${this.cluster.port}/midonet-api`;
  }

  static async create(): Promise<Lab> {
    const tag = randomUUID().slice(0, 4);
    const subnet = 200 * 256 + Math.floor(Math.random() * 250) + 1;
    const lab = new Lab(tag, subnet, mkdtempSync(join(tmpdir(), 'lab-')));
    try {
      const br = `mb${tag}`;
      await sh('ip', ['link', 'add', br, 'type', 'bridge']);
      lab.links.push(br);
      await sh('ip', ['addr', 'add', `${lab.gateway}/24`, 'dev', br]);
      await sh('ip', ['link', 'set', br, 'up']);
      lab.cluster = await ClusterProcess.start(['--data-dir', join(lab.dir, 'nsdb')], undefined, '0.0.0.0');
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Starts the cluster again on the same port and data (after a kill). */
  async restartCluster(port: number): Promise<void> {
    this.cluster = await ClusterProcess.start(['--data-dir', join(this.dir, 'nsdb')], port, '0.0.0.0');
  }

  // Tests walk DTOs of every shape; typing each would restate the API in the tests.
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; location: string | null }> {
    const r = await fetch(`${this.api}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined, location: r.headers.get('location') };
  }

  async create(path: string, body: unknown): Promise<string> {
    const r = await this.call('POST', path, body);
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.location!.split('/').pop()!;
  }

  async addHost(name: string, extraArgs: string[] = []): Promise<LabHost> {
    const n = this.hosts.length + 1;
    const ns = `mh${this.tag}${n}`;
    const up = `mu${this.tag}${n}`;
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await sh('ip', ['link', 'add', up, 'type', 'veth', 'peer', 'name', `md${this.tag}${n}`]);
    this.links.push(up);
    await sh('ip', ['link', 'set', `md${this.tag}${n}`, 'netns', ns]);
    await sh('ip', ['link', 'set', up, 'master', `mb${this.tag}`, 'up']);
    const underlayIp = `10.${this.subnet >> 8}.${this.subnet & 255}.${n}`;
    await sh('ip', ['-n', ns, 'link', 'set', `md${this.tag}${n}`, 'name', 'eth0']);
    await sh('ip', ['-n', ns, 'addr', 'add', `${underlayIp}/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const id = randomUUID();
    writeFileSync(join(this.dir, `${name}.id`), `host_uuid=${id}\n`);
    const host: LabHost = { name, ns, id, underlayIp, agent: null as unknown as ChildProcess, log: [] };
    this.hosts.push(host);
    await this.startAgent(host, extraArgs);
    return host;
  }

  async startAgent(host: LabHost, extraArgs: string[] = []): Promise<void> {
    host.agent = spawn('ip', ['netns', 'exec', host.ns, process.execPath, MIDOLMAN, '--cluster', this.clusterForHosts,
      '--host-id-file', join(this.dir, `${host.name}.id`), '--binding-socket', join(this.dir, `${host.name}.sock`), '--host-name', host.name,
      '--state-dir', join(this.dir, `${host.name}.state`), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    host.agent.stdout?.on('data', (d) => host.log.push(String(d)));
    host.agent.stderr?.on('data', (d) => host.log.push(String(d)));
    await this.until(async () => (await this.call('GET', `/hosts/${host.id}`)).json?.alive === true, `host ${host.name} alive`);
  }

  /** A namespace on the underlay that runs no agent and belongs to no tunnel zone: a stranger on the wire. */
  async addStranger(): Promise<{ ns: string; ip: string }> {
    const ns = `ms${this.tag}`;
    const up = `mx${this.tag}`;
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await sh('ip', ['link', 'add', up, 'type', 'veth', 'peer', 'name', `my${this.tag}`]);
    this.links.push(up);
    await sh('ip', ['link', 'set', `my${this.tag}`, 'netns', ns]);
    await sh('ip', ['link', 'set', up, 'master', `mb${this.tag}`, 'up']);
    const ip = `10.${this.subnet >> 8}.${this.subnet & 255}.200`;
    await sh('ip', ['-n', ns, 'link', 'set', `my${this.tag}`, 'name', 'eth0']);
    await sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return { ns, ip };
  }

  async killAgent(host: LabHost, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = host.agent;
    if (p.exitCode !== null || p.signalCode !== null) return;
    // `ip netns exec` execs the agent, so the pid is the agent's own.
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  /** A VM: its own namespace with eth0 (MAC, address), the other veth end in the host. */
  async addVm(host: LabHost, o: { mac: string; cidr?: string; gateway?: string }): Promise<LabVm> {
    const n = this.vms.length + 1;
    const ns = `mv${this.tag}${n}`;
    const ifname = `tp${this.tag}${n}`;
    await sh('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await sh('ip', ['-n', host.ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', `vv${this.tag}${n}`]);
    await sh('ip', ['-n', host.ns, 'link', 'set', `vv${this.tag}${n}`, 'netns', ns]);
    await sh('ip', ['-n', host.ns, 'link', 'set', ifname, 'up']);
    // No IPv6 chatter (router solicitations, MLD) in VMs: tests count frames.
    await nsExec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    await sh('ip', ['-n', ns, 'link', 'set', `vv${this.tag}${n}`, 'name', 'eth0']);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', o.mac]);
    await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    if (o.cidr) await sh('ip', ['-n', ns, 'addr', 'add', o.cidr, 'dev', 'eth0']);
    if (o.gateway) await sh('ip', ['-n', ns, 'route', 'add', 'default', 'via', o.gateway]);
    const vm = { ns, ifname, mac: o.mac, ip: o.cidr ? o.cidr.split('/')[0]! : null };
    this.vms.push(vm);
    return vm;
  }

  async until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        if (await check()) return;
      } catch {
        // not yet
      }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; agent logs: ${this.hosts.map((h) => `${h.name}: ${h.log.join('')}`).join(' | ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async destroy(): Promise<void> {
    for (const h of this.hosts) await this.killAgent(h).catch(() => undefined);
    // What agents started and a kill -9 left: BGP daemons (run from the lab's folder) and their namespaces.
    await sh('pkill', ['-f', this.dir]).catch(() => undefined);
    const { stdout } = await sh('ip', ['netns', 'list']).catch(() => ({ stdout: '' }));
    for (const ns of stdout.split('\n').map((l) => l.split(' ')[0]!)) {
      if (this.hosts.some((h) => ns.startsWith(`mbgp-${h.id.slice(0, 8)}-`))) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    }
    await this.cluster?.stop().catch(() => undefined);
    for (const ns of this.namespaces.reverse()) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
    for (const l of this.links) await sh('ip', ['link', 'del', l]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Binds a virtual port to the VM's interface on its host and waits until the agent has it active. */
export async function bind(lab: Lab, port: string, host: LabHost, vm: LabVm): Promise<void> {
  const r = await lab.call('POST', `/hosts/${host.id}/ports`, { portId: port, interfaceName: vm.ifname });
  if (r.status !== 201) throw new Error(`binding failed: ${r.status} ${JSON.stringify(r.json)}`);
  await lab.until(async () => (await lab.call('GET', `/ports/${port}`)).json.active === true, `port ${port} active`);
}

/** A new port of `bridge`, bound to the VM. */
export async function plug(lab: Lab, bridge: string, host: LabHost, vm: LabVm): Promise<string> {
  const port = await lab.create(`/bridges/${bridge}/ports`, { type: 'Bridge' });
  await bind(lab, port, host, vm);
  return port;
}

/** The agent's counters, from its binding API socket. */
export async function metrics(lab: Lab, host: LabHost): Promise<any> {
  const { stdout } = await sh('curl', ['-s', '--unix-socket', join(lab.dir, `${host.name}.sock`), 'http://agent/metrics']);
  return JSON.parse(stdout);
}

/** The agent's Prometheus text: its metrics port (7300) on loopback inside the host's namespace. */
export async function prometheus(host: LabHost): Promise<string> {
  const r = await nsExec(host.ns, ['curl', '-sf', 'http://127.0.0.1:7300/metrics']);
  if (r.code !== 0) throw new Error(`metrics of ${host.name}: curl exit ${r.code}`);
  return r.stdout;
}

/** A tunnel zone of the given hosts (all the lab's by default). */
export async function tunnelZone(lab: Lab, type: 'vxlan' | 'gre' = 'vxlan', hosts: readonly LabHost[] = lab.hosts): Promise<string> {
  const tz = await lab.create('/tunnel_zones', { name: 'tz', type });
  for (const h of hosts) {
    const r = await fetch(`${lab.api}/tunnel_zones/${tz}/hosts`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.org.midonet.TunnelZoneHost-v1+json' },
      body: JSON.stringify({ hostId: h.id, ipAddress: h.underlayIp }),
    });
    if (r.status !== 201) throw new Error(`tunnel zone member: ${r.status}`);
  }
  return tz;
}
