import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A number the agent already counts, read when Prometheus scrapes. */
type Reading = () => number;

/**
 * The agent's Prometheus metrics, named midonet_agent_<what>_<unit>, and its health endpoints, on
 * a local HTTP port: /metrics, /healthz (the process answers), /readyz (topology stream up and
 * datapath open).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly simulation = new Histogram({
    name: 'midonet_agent_simulation_duration_seconds', help: 'Time to simulate one packet through the virtual topology.',
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'midonet_agent_' });
  }

  /** A counter that reads its value from the agent's own counters (label values from `labels`). */
  counter(name: string, help: string, read: Reading | Record<string, Reading>, label = 'reason'): void {
    new Counter({
      name, help, labelNames: typeof read === 'function' ? [] : [label], registers: [this.registry],
      collect() {
        this.reset();
        if (typeof read === 'function') this.inc(read());
        else for (const [v, r] of Object.entries(read)) this.inc({ [label]: v }, r());
      },
    });
  }

  gauge(name: string, help: string, read: Reading): void {
    new Gauge({ name, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /** Serves the metrics and health endpoints; a port already taken costs the endpoints, not the agent. */
  listen(port: number, host: string, ready: () => boolean, onError: (err: Error) => void): Server {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/metrics') {
        void this.registry.metrics().then((text) => {
          res.writeHead(200, { 'content-type': this.registry.contentType });
          res.end(text);
        });
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"alive"}');
      } else if (path === '/readyz') {
        const ok = ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ready' : 'not ready' }));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    server.on('error', onError);
    server.listen(port, host);
    return server;
  }
}
