import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    this.proc = spawn(
      'java',
      ['-Xmx256m', '-cp', '/etc/zookeeper/conf:/usr/share/java/*', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg],
      { stdio: 'ignore', cwd: this.dir },
    );
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (await this.ruok()) return;
      await new Promise((r) => setTimeout(r, 200));
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
