import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BINDING_SOCKET } from '../../src/agent/binding-api.ts';

const MIDOLMAN = fileURLToPath(new URL('../../bin/midolman.js', import.meta.url));

/** The agent's metrics as `GET /metrics` on its binding socket answers them (the parts tests read). */
export interface AgentMetrics {
  topology: { objects: number; devicesCompiled: number; compiles: number; messages: number; updates: number; stateMessages: number; loads: number; dropped: number; handlerErrors: number; badValues: number; stream: { messages: number; bytes: number; malformed: number } };
  datapath: { rxFrames: number; txFrames: number; tunnelTx: number };
  workflow: { simulations: number; dropped: number; waitedForTopology: number; topologyTimeouts: number };
  flows: { flows: number; invalidated: number };
  ports: string[];
}

/** One HTTP exchange over the agent's unix socket. */
function call(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: body ? { 'content-type': 'text/plain' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A real `midolman` with no datapath (`--datapath none`): the agent's own topology cache,
 * subscriptions, simulation and flows, frames given through its binding socket. Many fit on one
 * machine, so tests and benches can run agents at scale.
 */
export class VirtualAgent {
  readonly log: string[] = [];

  private constructor(
    readonly proc: ChildProcess,
    readonly id: string,
    readonly name: string,
    /** The binding socket (where the metrics are read); mn-conf may move it. */
    public socket: string,
  ) {
    proc.stdout?.on('data', (d) => this.log.push(String(d)));
    proc.stderr?.on('data', (d) => this.log.push(String(d)));
  }

  /** `token`: for a cluster with authentication, what to ask whether the host is alive with; `id`: a host id given ahead. */
  /** `socket: null`: no --binding-socket, the agent takes it from mn-conf (its default first). */
  static async start(clusterUrl: string, dir: string, name: string, extraArgs: string[] = [], o: { token?: string; id?: string; findCluster?: boolean; socket?: null } = {}): Promise<VirtualAgent> {
    const id = o.id ?? randomUUID();
    const idFile = join(dir, `${name}.id`);
    writeFileSync(idFile, `host_uuid=${id}\n`);
    const socket = o.socket === null ? DEFAULT_BINDING_SOCKET : join(dir, `${name}.sock`);
    // findCluster: no URL given, the agent finds the cluster as MidoNet's do (its configuration file).
    const proc = spawn(process.execPath, [MIDOLMAN, '--datapath', 'none', ...(o.findCluster ? [] : ['--cluster', clusterUrl]), '--host-id-file', idFile,
      ...(o.socket === null ? [] : ['--binding-socket', socket]), '--host-name', name, '--state-dir', join(dir, `${name}.state`), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new VirtualAgent(proc, id, name, socket);
    const end = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`midolman ${name} exited: ${agent.log.join('')}`);
      try {
        const host = await fetch(`${clusterUrl}/hosts/${id}`, { headers: { accept: 'application/json', ...(o.token ? { 'x-auth-token': o.token } : {}) } });
        if (host.status === 200 && (await host.json() as { alive?: boolean }).alive === true) {
          await agent.metrics();
          return agent;
        }
      } catch {
        // not up yet
      }
      if (Date.now() > end) {
        proc.kill('SIGKILL');
        throw new Error(`midolman ${name} did not come up: ${agent.log.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async metrics(): Promise<AgentMetrics> {
    const r = await call(this.socket, 'GET', '/metrics');
    if (r.status !== 200) throw new Error(`metrics: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as AgentMetrics;
  }

  /** A frame as if a VM sent it on the port. */
  async inject(portId: string, frame: Uint8Array): Promise<void> {
    const r = await call(this.socket, 'POST', `/inject/${portId}`, Buffer.from(frame).toString('hex'));
    if (r.status !== 200) throw new Error(`inject: ${r.status} ${r.text}`);
  }

  /** Waits until the agent's metrics satisfy `pred`. */
  async until(pred: (m: AgentMetrics) => boolean, what: string, ms = 10_000): Promise<AgentMetrics> {
    const end = Date.now() + ms;
    for (;;) {
      const m = await this.metrics();
      if (pred(m)) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(m.topology)} ${JSON.stringify(m.workflow)}; log: ${this.log.join('')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}
