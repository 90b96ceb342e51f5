import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { StoreConf } from '../conf/conf-store.ts';
import { CLUSTER_CONF, readBootstrap } from '../conf/bootstrap.ts';
import { clusterEndpointKey } from '../model/state-keys.ts';
import { levelOf, log, setLogLevel } from '../conf/log.ts';
import { openStore, type NsdbOptions } from '../nsdb/open.ts';
import { MockAuthService, StaticAuthService } from './api/auth.ts';
import { KeystoneAuthService, keystoneConfig } from './api/keystone-auth.ts';
import { buildApi } from './api/server.ts';
import { buildNeutronApi } from './neutron/v2-server.ts';
import { attachTopologyService } from './topology-service.ts';
import { serveConsole } from './console.ts';
import { ClusterMetrics } from './metrics.ts';

const USAGE = `usage: midonet-cluster [--port 8181] [--host 0.0.0.0] [--data-dir DIR | --zookeeper host:2181,...]
                       [--root-key /midonet] [--session-timeout 30] [--config /etc/midonet/midonet.conf]
                       [--advertise-url URL] [--auth-file users.json]
                       [--neutron-port 9696 | --neutron-port off] [--tls-cert cert.pem --tls-key key.pem]
                       [--log-level TRACE|DEBUG|INFO|WARN|ERROR]
--tls-cert/--tls-key: HTTPS for the APIs and wss for the topology stream (agents then carry their
credentials encrypted); agents trust the certificate through NODE_EXTRA_CA_CERTS.`;

/** The address agents reach this node at: the one it listens on, or its first outside IPv4 address. */
function advertisedHost(listen: string): string {
  if (listen !== '0.0.0.0' && listen !== '::') return listen;
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** Starts the cluster: NSDB, MidoNet REST API and the agents' topology service on one port. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string', default: process.env.MIDONET_DATA_DIR ?? './data' },
      zookeeper: { type: 'string' },
      'root-key': { type: 'string' },
      config: { type: 'string', default: CLUSTER_CONF },
      'advertise-url': { type: 'string' },
      'auth-file': { type: 'string' },
      'session-timeout': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'log-level': { type: 'string' },
      'neutron-port': { type: 'string', default: process.env.MIDONET_NEUTRON_PORT ?? '9696' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // The NSDB: the command line, else MidoNet's midonet.conf [zookeeper] (or the environment), else embedded.
  const boot = readBootstrap([values.config!]);
  const zkHosts = values.zookeeper ?? boot.hosts;
  const nsdb: NsdbOptions = zkHosts
    ? { kind: 'zookeeper', hosts: zkHosts, rootKey: values['root-key'] ?? boot.rootKey, sessionTimeoutMs: values['session-timeout'] ? Number(values['session-timeout']) * 1000 : (boot.sessionTimeoutMs ?? 30_000) }
    : { kind: 'embedded', dataDir: values['data-dir']! };
  const logger = log('cluster');
  if (values['log-level'] !== undefined) {
    const level = levelOf(values['log-level']);
    if (!level) throw new Error(`bad --log-level ${values['log-level']}: TRACE, DEBUG, INFO, WARN or ERROR`);
    setLogLevel(level);
  }
  // Nothing a request or the NSDB library leaves unhandled may end the cluster: log it and go on.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  const store = await openStore(nsdb);
  // Where the API listens: the command line, else mn-conf (read at start, as MidoNet does).
  const conf = await new StoreConf(store).runtime(null);
  if (values['log-level'] === undefined) setLogLevel(levelOf(conf['cluster.loggers.root']) ?? 'info');
  store.setTransactionAttempts(Number(conf['zookeeper.transaction_attempts']));
  const enabled = (key: string) => conf[key] !== false && conf[key] !== 'false';
  const port = Number(values.port ?? conf['cluster.rest_api.http_port'] ?? 8181);
  const host = String(values.host ?? conf['cluster.rest_api.http_host'] ?? '0.0.0.0');
  const keystone = keystoneConfig(conf);
  const auth = values['auth-file'] ? StaticAuthService.fromFile(values['auth-file'], store) : keystone ? new KeystoneAuthService(keystone) : new MockAuthService();
  if (!values['tls-cert'] !== !values['tls-key']) throw new Error('--tls-cert and --tls-key go together');
  const tls = values['tls-cert'] ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined;
  const scheme = tls ? 'https' : 'http';
  const metrics = new ClusterMetrics(store);
  const anonymousAs = String(conf['cluster.compat_2012.anonymous_user'] ?? '');
  const app = buildApi({ store, auth, tls, metrics, rest: enabled('cluster.rest_api.enabled'), compat2012: { anonymousAs: anonymousAs || null } });
  serveConsole(app, auth);
  const topology = enabled('cluster.topology_api.enabled') ? attachTopologyService(app.server, store, auth, metrics) : null;
  await app.listen({ port, host });
  const where = nsdb.kind === 'zookeeper' ? `ZooKeeper ${nsdb.hosts}` : `embedded NSDB in ${nsdb.dataDir}`;
  logger.info({ url: `${scheme}://${host}:${port}/midonet-api`, nsdb: where }, 'MidoNet API listening');
  const neutron = values['neutron-port'] === 'off' ? null : buildNeutronApi(store, auth, { tls, metrics });
  if (neutron) {
    await neutron.listen({ port: Number(values['neutron-port']), host });
    logger.info({ url: `${scheme}://${host}:${values['neutron-port']}/v2.0` }, 'Neutron API listening');
  }
  // Agents that know only the NSDB (midolman.conf [zookeeper]) find the cluster here.
  const node = randomUUID();
  const advertised = values['advertise-url'] ?? `${scheme}://${advertisedHost(host)}:${port}/midonet-api`;
  await store.setState(clusterEndpointKey(node), advertised, `cluster-${node}`);
  logger.info({ endpoint: advertised }, 'endpoint registered in the NSDB');
  const stop = async () => {
    await neutron?.close();
    await topology?.close();
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
