import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real standalone ZooKeeper (Debian's 3.8) on a loopback port, for one test file. */
export class ZooKeeperServer {
  private proc: ChildProcess | null = null;
  readonly dir: string;

  private constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'zk-'));
  }

  get hosts(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(port = 21000 + Math.floor(Math.random() * 8000)): Promise<ZooKeeperServer> {
    const zk = new ZooKeeperServer(port);
    await zk.startProcess();
    return zk;
  }

  async startProcess(): Promise<void> {
    const cfg = join(this.dir, 'zoo.cfg');
    writeFileSync(
      cfg,
      [
        'tickTime=500',
        `dataDir=${join(this.dir, 'data')}`,
        `clientPort=${this.port}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        'minSessionTimeout=1000',
        'maxSessionTimeout=60000',
        '4lw.commands.whitelist=ruok',
      ].join('\n'),
    );
    // A JVM started right after another was killed on this data directory has, once in a while on
    // a loaded machine, never come up: such a start is killed and made again.
    for (let attempt = 1; attempt <= 3; attempt++) {
      this.proc = spawn(
        'java',
        ['-Xmx256m', '-cp', '/etc/zookeeper/conf:/usr/share/java/*', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg],
        { stdio: 'ignore', cwd: this.dir },
      );
      const deadline = Date.now() + 15000;
      while (Date.now() < deadline) {
        if (await this.ruok()) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      console.log(`# ZooKeeper on port ${this.port} did not answer within 15 s of start ${attempt}`);
      await this.stop();
    }
    throw new Error(`ZooKeeper did not start on port ${this.port}`);
  }

  private ruok(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: this.port });
      // A server still starting may take the connection and never answer: ask again later.
      s.setTimeout(1000, () => s.destroy());
      let out = '';
      s.on('connect', () => s.write('ruok'));
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out === 'imok'));
      s.on('error', () => resolve(false));
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real three-node ZooKeeper ensemble on loopback (design.md's recipe, one config per node),
 * whose nodes a test can kill and start again.
 */
export class ZooKeeperEnsemble {
  private readonly procs: (ChildProcess | null)[] = [];
  readonly dir: string;

  private constructor(readonly ports: number[], private readonly quorum: [number, number][]) {
    this.dir = mkdtempSync(join(tmpdir(), 'zk3-'));
  }

  get hosts(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  static async start(): Promise<ZooKeeperEnsemble> {
    const base = 21000 + Math.floor(Math.random() * 7000);
    const z = new ZooKeeperEnsemble([base, base + 1, base + 2], [[base + 10, base + 20], [base + 11, base + 21], [base + 12, base + 22]]);
    await Promise.all([0, 1, 2].map((i) => z.startNode(i)));
    return z;
  }

  private config(i: number): string {
    const dir = join(this.dir, `n${i + 1}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'myid'), `${i + 1}\n`);
    const cfg = join(this.dir, `zoo${i + 1}.cfg`);
    writeFileSync(cfg, [
      'tickTime=500', 'initLimit=10', 'syncLimit=5', `dataDir=${dir}`, `clientPort=${this.ports[i]}`, 'clientPortAddress=127.0.0.1',
      'admin.enableServer=false', 'minSessionTimeout=1000', 'maxSessionTimeout=60000', '4lw.commands.whitelist=ruok,srvr',
      ...this.quorum.map(([peer, election], n) => `server.${n + 1}=127.0.0.1:${peer}:${election}`),
    ].join('\n'));
    return cfg;
  }

  async startNode(i: number): Promise<void> {
    this.procs[i] = spawn('java', ['-Xmx192m', '-cp', '/etc/zookeeper/conf:/usr/share/java/*', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', this.config(i)], { stdio: 'ignore', cwd: this.dir });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if ((await this.ask(i, 'srvr')).includes('Mode:')) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`ZooKeeper node ${i + 1} did not join`);
  }

  /** A four-letter command's answer ('' when the node does not answer). */
  private ask(i: number, cmd: string): Promise<string> {
    return new Promise((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: this.ports[i]! });
      s.setTimeout(1000, () => s.destroy());
      let out = '';
      s.on('connect', () => s.write(cmd));
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(''));
    });
  }

  /** The node that leads now. */
  async leader(): Promise<number> {
    for (let i = 0; i < 3; i++) if ((await this.ask(i, 'srvr')).includes('Mode: leader')) return i;
    throw new Error('no leader');
  }

  async leaderOr(fallback: number): Promise<number> {
    return this.leader().catch(() => fallback);
  }

  async follower(): Promise<number> {
    const l = await this.leader();
    return (l + 1) % 3;
  }

  async kill(i: number): Promise<void> {
    const p = this.procs[i];
    this.procs[i] = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async destroy(): Promise<void> {
    for (let i = 0; i < 3; i++) await this.kill(i);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
