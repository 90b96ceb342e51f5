/**
 * One BGP speaker: a BIRD 2 daemon (Debian's bird2) in the namespace BgpLink made, configured
 * from the topology and reconfigured in place (`birdc configure` restarts only the sessions whose
 * settings changed). BIRD rather than FRR: one small daemon and one config file per speaker, a
 * control socket per instance, and no daemon manager to run in every namespace.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface PeerConf {
  address: string;
  asNumber: number;
  password: string | null;
  keepAlive: number;
  holdTime: number;
  connectRetry: number;
}

export interface SpeakerConf {
  routerId: string;
  localAddress: string;
  asNumber: number;
  networks: string[];
  peers: PeerConf[];
}

/** A learned route as the speaker's kernel table holds it. */
export interface Learned {
  dst: string;
  length: number;
  gateway: string;
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

export function birdConfig(c: SpeakerConf): string {
  const lines = [
    `router id ${c.localAddress};`,
    'protocol device { scan time 10; }',
    // Learned routes go to the namespace's kernel table, where the agent reads them.
    'protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; scan time 1; }',
    'protocol static midonet_networks {',
    '  ipv4;',
    ...c.networks.map((n) => `  route ${n} unreachable;`),
    '}',
  ];
  c.peers.forEach((p, i) => {
    lines.push(
      `protocol bgp peer${i} {`,
      `  description ${quote(p.address)};`,
      `  local ${c.localAddress} as ${c.asNumber};`,
      `  neighbor ${p.address} as ${p.asNumber};`,
      `  hold time ${p.holdTime}; keepalive time ${p.keepAlive}; connect retry time ${p.connectRetry};`,
      ...(p.password ? [`  password ${quote(p.password)};`] : []),
      '  ipv4 { import all; export where proto = "midonet_networks"; next hop self; };',
      '}',
    );
  });
  return `${lines.join('\n')}\n`;
}

export class BirdSpeaker {
  private proc: ChildProcess | null = null;
  private config = '';

  constructor(
    readonly ns: string,
    private readonly dir: string,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private get socket(): string {
    return join(this.dir, 'bird.ctl');
  }

  private get confFile(): string {
    return join(this.dir, 'bird.conf');
  }

  /** Starts the daemon, or reconfigures it when the configuration changed. */
  async apply(c: SpeakerConf): Promise<void> {
    const text = birdConfig(c);
    if (text === this.config && this.proc) return;
    this.config = text;
    writeFileSync(this.confFile, text);
    if (this.proc && this.proc.exitCode === null) {
      await exec('birdc', ['-s', this.socket, 'configure']);
      return;
    }
    killStale(this.dir);
    this.proc = spawn('ip', ['netns', 'exec', this.ns, 'bird', '-f', '-c', this.confFile, '-s', this.socket, '-P', join(this.dir, 'bird.pid')], { stdio: 'ignore' });
  }

  /** Each peer's session state as BIRD says it ("Established", "Active  Socket: ..."). */
  async status(peers: PeerConf[]): Promise<string> {
    try {
      const { stdout } = await exec('birdc', ['-s', this.socket, 'show', 'protocols']);
      const states = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const m = /^peer(\d+)\s+BGP\s+\S+\s+\S+\s+\S+\s+(.*)$/.exec(line.trim());
        if (m) states.set(m[1]!, m[2]!.trim().replace(/\s+/g, ' '));
      }
      return peers.map((p, i) => `${p.address} ${states.get(String(i)) ?? 'Idle'}`).join('; ');
    } catch {
      return peers.map((p) => `${p.address} Idle`).join('; ');
    }
  }

  /** The routes the sessions have learned, from the namespace's kernel table. */
  async learned(): Promise<Learned[]> {
    try {
      const { stdout } = await exec('ip', ['-j', '-n', this.ns, 'route', 'show', 'proto', 'bird']);
      const routes = JSON.parse(stdout || '[]') as { dst: string; gateway?: string }[];
      return routes.filter((r) => r.gateway).map((r) => {
        const [dst, len] = r.dst === 'default' ? ['0.0.0.0', '0'] : r.dst.includes('/') ? r.dst.split('/') : [r.dst, '32'];
        return { dst: dst!, length: Number(len), gateway: r.gateway! };
      });
    } catch {
      return [];
    }
  }

  stop(): void {
    this.proc?.kill('SIGTERM');
    this.proc = null;
    killStale(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Stops a daemon a previous run of the agent left (its pid file says which). */
function killStale(dir: string): void {
  try {
    process.kill(Number(readFileSync(join(dir, 'bird.pid'), 'utf8').trim()), 'SIGTERM');
  } catch {
    // none running
  }
}
