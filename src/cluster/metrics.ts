import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { log } from '../conf/log.ts';
import type { Store } from '../nsdb/store.ts';

/**
 * The cluster's Prometheus metrics (`GET /metrics`), named midonet_cluster_<what>_<unit>: requests
 * of both APIs by route and status with their latency, NSDB commits, conflicts and availability,
 * topology stream sessions and messages, and the process's own (CPU, memory, event loop).
 */
export class ClusterMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'midonet_cluster_http_requests_total', help: 'API requests answered, by API, route, method and status.', labelNames: ['api', 'route', 'method', 'status'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'midonet_cluster_http_request_duration_seconds', help: 'Time to answer an API request.', labelNames: ['api', 'route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry],
  });
  readonly sessions = new Gauge({ name: 'midonet_cluster_topology_sessions', help: 'Topology stream connections open.', registers: [this.registry] });
  readonly messages = new Counter({ name: 'midonet_cluster_topology_messages_sent_total', help: 'Messages sent on the topology stream.', registers: [this.registry] });

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry, prefix: 'midonet_cluster_' });
    const backend = store.backend as { counters?: { renewals: number; ambiguousCommits: number } };
    new Counter({ name: 'midonet_cluster_nsdb_commits_total', help: 'NSDB transactions committed by this process.', registers: [this.registry], collect() { this.reset(); this.inc(store.counters.commits); } });
    new Counter({ name: 'midonet_cluster_nsdb_conflicts_total', help: 'NSDB transactions that lost an optimistic race and ran again.', registers: [this.registry], collect() { this.reset(); this.inc(store.counters.conflicts); } });
    new Gauge({ name: 'midonet_cluster_nsdb_available', help: '1 while the NSDB answers (a ZooKeeper session is valid), else 0.', registers: [this.registry], collect() { this.set(store.backend.available ? 1 : 0); } });
    if (backend.counters) {
      const c = backend.counters;
      new Counter({ name: 'midonet_cluster_zookeeper_session_renewals_total', help: 'ZooKeeper sessions that expired and were renewed.', registers: [this.registry], collect() { this.reset(); this.inc(c.renewals); } });
      new Counter({ name: 'midonet_cluster_zookeeper_ambiguous_commits_total', help: 'Commits whose answer was lost and whose outcome was looked up.', registers: [this.registry], collect() { this.reset(); this.inc(c.ambiguousCommits); } });
    }
  }

  /**
   * Logs a line per answered request (method, path, status, time, user) and counts it. The route
   * label is the route's pattern, so ids do not make a series each.
   */
  instrument(app: FastifyInstance, api: string, userOf: (req: FastifyRequest) => string | undefined): void {
    const logger = log(`${api}-api`);
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const seconds = reply.elapsedTime / 1000;
      this.requests.inc({ api, route, method: req.method, status: String(reply.statusCode) });
      this.latency.observe({ api, route, method: req.method }, seconds);
      logger.info({ method: req.method, path: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, user: userOf(req) ?? null }, 'request');
    });
  }
}
