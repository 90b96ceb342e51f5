import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/midonet-cluster.js', import.meta.url));

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A real `midonet-cluster` process, as an operator starts it. */
export class ClusterProcess {
  private output = '';
  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
    readonly neutronPort: number,
    readonly scheme: 'http' | 'https' = 'http',
  ) {
    proc.stdout?.on('data', (d) => (this.output += d));
    proc.stderr?.on('data', (d) => (this.output += d));
  }

  /** What the process printed so far (its log lines). */
  get log(): string {
    return this.output;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}/midonet-api`;
  }

  /** The Neutron API's root (version discovery), as `openstack --os-endpoint` takes it. */
  get neutronUrl(): string {
    return `${this.scheme}://127.0.0.1:${this.neutronPort}`;
  }

  /**
   * Starts it on `port` (a free one by default). `fromConf`: the port and address are left to
   * mn-conf's cluster.rest_api settings, which must say `port`.
   */
  static async start(args: string[], port?: number, listen = '127.0.0.1', fromConf = false): Promise<ClusterProcess> {
    const p = port ?? (await freePort());
    const n = await freePort();
    const where = fromConf ? [] : ['--port', String(p), '--host', listen];
    const proc = spawn(process.execPath, [BIN, ...where, '--neutron-port', String(n), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c = new ClusterProcess(proc, p, n, args.includes('--tls-cert') ? 'https' : 'http');
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`midonet-cluster exited: ${c.output}`);
      try {
        // Up once its health endpoint answers (the API itself may be switched off).
        const r = await fetch(c.url.replace(/\/midonet-api$/, '/healthz'));
        if (r.status === 200) return c;
      } catch (err) {
        // Not listening yet; or listening with a certificate this process does not trust.
        if (/CERT|SELF_SIGNED/.test(String((err as { cause?: { code?: string } }).cause?.code))) return c;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`midonet-cluster did not answer on ${c.url}: ${c.output}`);
  }

  kill9(): Promise<void> {
    return this.stopWith('SIGKILL');
  }

  stop(): Promise<void> {
    return this.stopWith('SIGTERM');
  }

  private stopWith(signal: NodeJS.Signals): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}
