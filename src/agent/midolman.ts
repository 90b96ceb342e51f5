import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readCredentialsFile } from '../conf/credentials.ts';
import { AGENT_CONF, readBootstrap } from '../conf/bootstrap.ts';
import { discoverClusters } from './discovery.ts';
import { levelOf, log, rateLimited, setLogLevel } from '../conf/log.ts';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { NT, type NPort } from '../model/neutron.ts';
import { T, type Port } from '../model/types.ts';
import { applyAgentConfig, fetchAgentConfig } from './agent-config.ts';
import { startBindingApi, DEFAULT_BINDING_SOCKET, type Binder } from './binding-api.ts';
import { ClusterClient } from './cluster-client.ts';
import type { Datapath, DatapathHandlers } from './datapath/datapath.ts';
import { NullDatapath } from './datapath/null-datapath.ts';
import { UserspaceDatapath } from './datapath/userspace.ts';
import { DEFAULT_HOST_ID_FILE, loadHostId } from './host-id.ts';
import { scanInterfaces } from './interfaces.ts';
import { tunnelMtu, underlays } from './tunnel-mtu.ts';
import { BpfPrograms, COUNTERS, type FastPathCounters } from './datapath/bpf-programs.ts';
import { KernelFlows } from './kernel-flows.ts';
import { LinkMonitor } from './link-monitor.ts';
import { HOST_STATS, type HostStats } from '../model/state-keys.ts';
import { PacketWorkflow, type PortLocator } from './packet-workflow.ts';
import { BgpService } from './services/bgp.ts';
import { isSpeakerPort } from './services/bgp-link.ts';
import { MetadataService } from './services/metadata.ts';
import { ClusterBlockAllocator } from './nat-blocks.ts';
import { startWatchdog } from './watchdog.ts';
import { AgentMetrics } from './metrics.ts';
import { METADATA_PORT } from './services/metadata-link.ts';
import { TopologyCache } from './topology-cache.ts';

const USAGE = `usage: midolman [--cluster URL,... | --config /etc/midolman/midolman.conf] [--host-id-file PATH] [--tunnel-port 6677]
                [--binding-socket PATH] [--host-name NAME] [--state-dir /run/midolman]
                [--credentials FILE] [--datapath userspace|none] [--device-idle SECONDS] [--flow-idle SECONDS]
                [--watchdog SECONDS] [--metrics-port 7300] [--metrics-address 127.0.0.1]
                [--log-level TRACE|DEBUG|INFO|WARN|ERROR]
--credentials: the host's own login for a cluster with authentication (username= and password=
lines, or token=; default /etc/midolman/credentials when it exists).
Without --cluster (or MIDONET_CLUSTER_URL), the cluster is found through ZooKeeper as midolman.conf's
[zookeeper] zookeeper_hosts names it.
--flow-idle: a flow unused this long is removed (60 s). Flow hits are forwarded by a kernel fast
path (tc eBPF, built with clang at install) where the kernel takes it; mn-conf
agent.datapath.fast_path = false forwards everything in userspace.`;

class AgentError extends Error {}

/** Changes that may bind, unbind or reconfigure something on this host. */
const RECONCILED_BY = new Set<string>([T.Port, T.TunnelZone, T.Router, T.BgpPeer, T.BgpNetwork]);

/** Namespaces of BGP speakers a previous run left (after a kill -9). */
function removeStaleSpeakers(prefix: string): void {
  const names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]!);
  for (const ns of names) if (ns.startsWith(prefix)) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** Where an agent finds its credential when none is named (MidoNet's agents had none: ZooKeeper was open). */
/** Flows invalidated within one second that make a storm worth a warning. */
const INVALIDATION_STORM = 1000;

const DEFAULT_CREDENTIALS = '/etc/midolman/credentials';

/**
 * The cluster, when no URL is given: MidoNet's way, through ZooKeeper named in midolman.conf, where
 * every cluster node registers its endpoint; else a cluster on this machine.
 */
async function findClusters(config: string): Promise<string[]> {
  const boot = readBootstrap([config]);
  if (!boot.hosts) return [DEFAULT_CLUSTER];
  const found = await discoverClusters({ ...boot, hosts: boot.hosts });
  if (found.length === 0) throw new AgentError(`no cluster registered in ZooKeeper at ${boot.hosts}${boot.rootKey}`);
  return found;
}

const DEFAULT_CLUSTER = 'http://127.0.0.1:8181/midonet-api';

/** A call to the MidoNet API with the host's token; logs in again once if the token was refused. */
async function api(client: ClusterClient, method: string, path: string, body?: unknown): Promise<Response> {
  const base = client.current;
  const send = async () => fetch(`${base}${path}`, {
    method,
    headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...(await client.token(base).headers()) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const r = await send();
  if (r.status !== 401) return r;
  client.token(base).forget();
  return send();
}

/** The agent: registers the host, binds its ports, simulates and forwards their traffic. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      cluster: { type: 'string', default: process.env.MIDONET_CLUSTER_URL },
      config: { type: 'string', default: AGENT_CONF },
      'host-id-file': { type: 'string', default: DEFAULT_HOST_ID_FILE },
      'state-dir': { type: 'string' },
      'tunnel-port': { type: 'string' },
      'binding-socket': { type: 'string' },
      'host-name': { type: 'string', default: hostname() },
      datapath: { type: 'string', default: 'userspace' },
      credentials: { type: 'string', default: process.env.MIDOLMAN_CREDENTIALS },
      'device-idle': { type: 'string', default: '120' },
      'flow-idle': { type: 'string', default: '60' },
      watchdog: { type: 'string', default: '10' },
      'metrics-port': { type: 'string', default: '7300' },
      'metrics-address': { type: 'string', default: '127.0.0.1' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // Given on the command line these stay; else mn-conf's agent.datapath.vxlan_overlay_udp_port and
  // agent.minions.binding_api.unix_socket move them while the agent runs.
  let tunnelPort = Number(values['tunnel-port'] ?? 6677);
  if (!Number.isInteger(tunnelPort) || tunnelPort < 1 || tunnelPort > 65535) throw new AgentError(`bad --tunnel-port ${values['tunnel-port']}`);
  if (values.datapath !== 'userspace' && values.datapath !== 'none') throw new AgentError(`bad --datapath ${values.datapath}: userspace or none`);
  const deviceIdleMs = Number(values['device-idle']) * 1000;
  if (!(deviceIdleMs > 0)) throw new AgentError(`bad --device-idle ${values['device-idle']}`);
  const flowIdleMs = Number(values['flow-idle']) * 1000;
  if (!(flowIdleMs > 0)) throw new AgentError(`bad --flow-idle ${values['flow-idle']}`);
  const virtual = values.datapath === 'none';
  const watchdogMs = Number(values.watchdog) * 1000;
  if (!(watchdogMs > 0)) throw new AgentError(`bad --watchdog ${values.watchdog}`);
  const watchdog = startWatchdog(watchdogMs);
  const hostId = loadHostId(values['host-id-file']!);
  /** Work that failed is logged and counted; the agent goes on. */
  const logger = log('agent');
  if (values['log-level'] !== undefined) {
    const level = levelOf(values['log-level']);
    if (!level) throw new AgentError(`bad --log-level ${values['log-level']}: TRACE, DEBUG, INFO, WARN or ERROR`);
    setLogLevel(level);
  }
  const failures = { count: 0 };
  const failed = (what: string) => (err: unknown) => {
    failures.count++;
    logger.error({ err: err instanceof Error ? err.message : String(err) }, `${what} failed`);
  };
  process.on('unhandledRejection', failed('a background task'));
  const credentialsFile = values.credentials ?? (existsSync(DEFAULT_CREDENTIALS) ? DEFAULT_CREDENTIALS : null);
  const credentials = credentialsFile ? readCredentialsFile(credentialsFile) : null;
  const clusters = values.cluster ? values.cluster.split(',').map((u) => u.trim().replace(/\/$/, '')).filter(Boolean) : await findClusters(values.config!);
  const client = new ClusterClient(clusters, credentials);

  let workflow: PacketWorkflow;
  let metadata: MetadataService;
  let bgp: BgpService;
  // A frame that breaks something costs that frame, never the datapath loop.
  const handlers: DatapathHandlers = {
    frame: (port, bytes) => {
      try {
        if (!bgp.link.take(port, bytes) && !metadata.take(port, bytes)) workflow.onFrame(port, bytes);
      } catch (err) {
        failed('a frame')(err);
      }
    },
    tunnel: (vni, inner, from) => {
      try {
        workflow.onTunnel(vni, inner, from);
      } catch (err) {
        failed('a tunnelled frame')(err);
      }
    },
    batchDone: () => workflow.releaseParked(),
  };
  const nullDp = virtual ? new NullDatapath(handlers) : null;
  const userspace = virtual ? null : new UserspaceDatapath(handlers);
  const dp: Datapath = nullDp ?? userspace!;
  await userspace?.openTunnel(tunnelPort);
  const gre = userspace?.openGre() ?? false;

  let reconcileSoon: NodeJS.Immediate | null = null;
  const cache = new TopologyCache(client, hostId, {
    changed: (tags, type) => {
      for (const t of tags) workflow?.flows.invalidate(t);
      if (RECONCILED_BY.has(type) && !reconcileSoon) reconcileSoon = setImmediate(() => void reconcile().catch(failed('reconcile')));
    },
    arrived: (type, id) => {
      // Outside a datapath batch: what the released packets send goes out now.
      workflow?.topologyArrived(type, id);
      dp.flush();
    },
    arp: (router, ip, mac) => {
      workflow?.importArp(router, ip, mac);
      dp.flush();
    },
  });
  metadata = new MetadataService(dp, (id) => cache.get<NPort>(NT.Port, id));
  const stateDir = values['state-dir'] ?? `/run/midolman/${hostId}`;
  const nsPrefix = `mbgp-${hostId.slice(0, 8)}-`;
  if (!virtual) removeStaleSpeakers(nsPrefix);
  bgp = new BgpService(dp, {
    boundPorts: () => cache.boundPorts(),
    get: (type, id) => cache.get(type, id),
    isLocal: (id) => dp.hasPort(id),
    setState: (type, id, key, value) => client.setState(type, id, key, value),
    deleteState: (type, id, key) => client.deleteState(type, id, key),
  }, stateDir, nsPrefix);
  const byKey = new Map<number, string>();
  /** Underlay addresses of the hosts sharing a tunnel zone with this one, kept by reconcile. */
  let peers = new Set<string>();
  const locator: PortLocator = {
    isLocal: (id) => dp.hasPort(id),
    byTunnelKey: (key) => byKey.get(key) ?? null,
    isPeer: (address) => peers.has(address),
    remote: (id) => {
      const p = cache.get<Port>(T.Port, id);
      if (!p?.hostId || p.hostId === hostId || !cache.activePorts.has(id)) return null;
      for (const tz of cache.tunnelZones()) {
        const peer = tz.hostAddresses[p.hostId];
        if (peer && tz.type !== 'vtep' && tz.hostIds.includes(hostId) && tz.hostIds.includes(p.hostId)) {
          return { peer, vni: p.tunnelKey, encap: tz.type === 'gre' ? 'gre' : 'vxlan' };
        }
      }
      return null;
    },
  };
  const natBlocks = new ClusterBlockAllocator(client, hostId, (type, id) => {
    workflow.topologyArrived(type, id);
    dp.flush();
  });
  const metrics = new AgentMetrics();
  workflow = new PacketWorkflow(cache, dp, locator, {
    flowIdleMs, flowHardMs: 300_000, maxFlows: 100_000, tunnelPort, natBlocks, observe: (s) => metrics.simulation.observe(s),
  });
  const w = workflow;

  /**
   * The kernel fast path (tc eBPF) for flow hits, on unless mn-conf's agent.datapath.fast_path
   * says otherwise and where the kernel takes the programs; userspace does everything else.
   */
  let programs: BpfPrograms | null = null;
  let kernel: KernelFlows | null = null;
  let fastPathRefused: string | null = null;
  /** What programs turned off had counted: the metrics are counters, they never go back. */
  const carried: FastPathCounters = { local: 0, encap: 0, decap: 0, error: 0, drop: 0 };
  const fastPath = (on: boolean): void => {
    if (!userspace) return;
    if (on && !programs && fastPathRefused === null) {
      try {
        programs = BpfPrograms.load();
      } catch (err) {
        fastPathRefused = (err as Error).message;
        logger.warn({ reason: fastPathRefused }, 'datapath: kernel fast path unavailable, forwarding in userspace');
        return;
      }
      kernel = new KernelFlows(programs, (id) => userspace.ifindexOf(id), locator, tunnelPort);
      const k = kernel;
      userspace.portGone = (ifindex) => k.portGone(ifindex);
      userspace.useFastPath(programs);
      w.useKernel(kernel);
      logger.info('datapath: kernel fast path (tc eBPF) for flow hits, userspace for first packets and the rest');
      // The ports' tunnel keys and the underlay go to the kernel with the next reconcile: now.
      setImmediate(() => void reconcile().catch(failed('reconcile')));
    } else if (!on && programs) {
      w.useKernel(null);
      userspace.useFastPath(null);
      for (const k of COUNTERS) carried[k] += programs.counter(k);
      programs.close();
      programs = kernel = null;
      logger.info('datapath: kernel fast path turned off (agent.datapath.fast_path), forwarding in userspace');
    }
  };
  fastPath(true);
  metrics.gauge('midonet_agent_fast_path_enabled', 'Whether flow hits are forwarded by the kernel (tc eBPF).', () => (programs ? 1 : 0));
  metrics.gauge('midonet_agent_fast_path_flows', 'Flow entries in the kernel.', () => kernel?.size ?? 0);
  const fastCount = (what: keyof FastPathCounters) => () => carried[what] + (programs?.counter(what) ?? 0);
  metrics.counter('midonet_agent_fast_path_packets_total', 'Packets the kernel fast path handled, by what it did.', {
    local: fastCount('local'), encap: fastCount('encap'), decap: fastCount('decap'), drop: fastCount('drop'), error: fastCount('error'),
  }, 'action');
  metrics.gauge('midonet_agent_flows', 'Flows installed.', () => w.flows.stats.flows);
  metrics.counter('midonet_agent_flow_lookups_total', 'Flow table lookups, by result (kernel_hit: forwarded by the fast path).', { hit: () => w.counters.flowHits, miss: () => w.counters.simulations, kernel_hit: () => fastCount('local')() + fastCount('encap')() + fastCount('drop')() }, 'result');
  metrics.counter('midonet_agent_flows_invalidated_total', 'Flows removed by a topology or state change.', () => w.flows.stats.invalidated);
  metrics.counter('midonet_agent_flows_expired_total', 'Flows removed by their idle or hard timeout.', () => w.flows.stats.expired);
  metrics.counter('midonet_agent_simulations_total', 'Packets simulated.', () => w.counters.simulations);
  metrics.counter('midonet_agent_packets_dropped_total', 'Packets dropped, by reason.', {
    simulation: () => w.counters.dropped, malformed: () => w.counters.malformed, tunnel_unknown_key: () => w.counters.tunnelUnknownKey,
    tunnel_foreign: () => w.counters.tunnelForeign, topology_timeout: () => w.counters.topologyTimeouts, tx_failed: () => dp.counters.txDropped ?? 0,
    bad_vnet_header: () => dp.counters.rxMalformed ?? 0, tunnel_malformed: () => dp.counters.tunnelMalformed ?? 0,
  });
  metrics.counter('midonet_agent_flow_state_messages_total', 'Flow-state (conntrack, NAT) entries sent and received.', { sent: () => w.counters.stateSent, received: () => w.counters.stateReceived, malformed: () => w.counters.stateMalformed }, 'direction');
  metrics.gauge('midonet_agent_nat_blocks_held', 'SNAT port blocks this agent leases.', () => natBlocks.counters.claimed - natBlocks.counters.released);
  metrics.counter('midonet_agent_nat_block_claims_total', 'SNAT port block claims, by answer.', { claimed: () => natBlocks.counters.claimed, taken: () => natBlocks.counters.refused }, 'answer');
  metrics.gauge('midonet_agent_topology_objects', 'Topology objects held.', () => cache.size);
  metrics.gauge('midonet_agent_topology_devices_compiled', 'Devices compiled for simulation.', () => cache.topology.size);
  metrics.counter('midonet_agent_topology_messages_total', 'Messages received on the topology stream.', () => client.counters.messages);
  metrics.counter('midonet_agent_topology_refused_total', 'Topology messages and values refused, by kind.', {
    bad_value: () => cache.counters.badValues, handler_error: () => cache.counters.handlerErrors, malformed: () => client.counters.malformed,
  }, 'kind');
  metrics.gauge('midonet_agent_bgp_speakers', 'BGP speakers running.', () => bgp.counters.speakers);
  metrics.gauge('midonet_agent_bgp_sessions_established', 'BGP peer sessions in the Established state.', () => bgp.counters.established);
  metrics.gauge('midonet_agent_bgp_learned_routes', 'Routes the BGP speakers learned and publish.', () => bgp.counters.learned);
  metrics.counter('midonet_agent_failures_total', 'Work that failed and was logged (frames, periodic tasks).', () => failures.count);

  let reported = '';

  /** The host stats last published (again after a reconnect: the key went with the session). */

  let published = '';
  let reconciling: Promise<void> | null = null;
  let reconcileAgain = false;
  /** Brings bindings, active states and the host report in line (one pass at a time; a request meanwhile makes one more). */
  function reconcile(): Promise<void> {
    reconcileSoon = null;
    if (reconciling) {
      reconcileAgain = true;
      return reconciling;
    }
    reconciling = reconcileOnce().finally(() => {
      reconciling = null;
      if (reconcileAgain) {
        reconcileAgain = false;
        void reconcile().catch(failed('reconcile'));
      }
    });
    return reconciling;
  }

  async function reconcileOnce(): Promise<void> {
    const ifaces = virtual ? [] : await scanInterfaces();
    const report = JSON.stringify({ interfaces: ifaces });
    if (report !== reported && client.connected) {
      reported = report;
      client.setState(T.Host, hostId, 'host', report);
    }
    const mine = new Map(cache.boundPorts().filter((p) => p.interfaceName).map((p) => [p.id, p]));
    // Without a datapath every bound port counts as plugged in.
    const present = new Set(virtual ? [...mine.values()].map((p) => p.interfaceName!) : ifaces.map((i) => i.name));
    for (const id of dp.ports()) {
      if (id === METADATA_PORT || isSpeakerPort(id)) continue;
      const p = mine.get(id);
      if (!p || !present.has(p.interfaceName!)) {
        dp.removePort(id);
        cache.unpublishPort(id);
        logger.info({ port: id }, 'port unbound');
        client.deleteState(T.Port, id, 'active');
        workflow.flows.invalidate(`d:${id}`);
      }
    }
    const members = new Set<string>();
    for (const tz of cache.tunnelZones()) {
      if (tz.type === 'vtep' || !tz.hostIds.includes(hostId)) continue;
      for (const h of tz.hostIds) if (h !== hostId && tz.hostAddresses[h]) members.add(tz.hostAddresses[h]!);
    }
    for (const a of members) if (!peers.has(a)) logger.info({ peer: a }, 'tunnel peer up');
    for (const a of peers) if (!members.has(a)) logger.info({ peer: a }, 'tunnel peer down');
    peers = members;
    if (!virtual) workflow.state.config.tunnelMtu = tunnelMtu(cache.tunnelZones(), hostId, ifaces);
    byKey.clear();
    for (const p of mine.values()) {
      if (!dp.hasPort(p.id) && present.has(p.interfaceName!)) {
        try {
          dp.addPort(p.id, p.interfaceName!);
          logger.info({ port: p.id, interface: p.interfaceName }, 'port bound');
          client.setState(T.Port, p.id, 'active', hostId);
          workflow.flows.invalidate(`d:${p.id}`);
        } catch (err) {
          logger.error({ port: p.id, interface: p.interfaceName, err: (err as Error).message }, 'cannot attach the port');
        }
      }
      if (dp.hasPort(p.id)) byKey.set(p.tunnelKey, p.id);
    }
    if (kernel && userspace) {
      const targets = new Map<number, number>();
      for (const [key, id] of byKey) {
        const i = userspace.ifindexOf(id);
        if (i !== null) targets.set(key, i);
      }
      kernel.setTunnelTargets(targets, peers);
      userspace.setUnderlays(underlays(cache.tunnelZones(), hostId, ifaces).filter((u) => u.encap === 'vxlan').map((u) => u.iface.name));
    }
    await bgp.sync();
  }

  async function register(): Promise<void> {
    const r = await api(client, 'GET', `/hosts/${hostId}`);
    if (r.status === 404) {
      const c = await api(client, 'POST', '/hosts', { id: hostId, name: values['host-name'] });
      if (c.status !== 201 && c.status !== 409) throw new AgentError(`host registration failed: ${c.status} ${await c.text()}`);
    } else if (r.status !== 200) throw new AgentError(`host lookup failed: ${r.status}`);
  }

  client.on('connected', () => {
    client.setState(T.Host, hostId, 'alive', 'true');
    reported = '';
    published = '';
    void register()
      .then(() => reconcile())
      .catch(failed('host registration'));
  });
  client.start();
  // Interfaces are scanned when the kernel says a link or address changed, and every 10 s besides
  // (retries of what failed, and a host without `ip monitor`).
  const links = virtual ? null : new LinkMonitor(() => void reconcile().catch(failed('reconcile')));
  links?.start();
  metrics.counter('midonet_agent_link_notifications_total', 'Link and address changes the kernel announced.', () => links?.events ?? 0);
  const reconcileEvery = links ? 10 : 1;

  const binder: Binder = {
    metrics: () => ({
      hostId,
      topology: {
        objects: cache.size,
        devicesCompiled: cache.topology.size,
        compiles: cache.topology.stats.compiled,
        compileMs: Math.round(cache.topology.stats.compileMs * 1000) / 1000,
        ...cache.counters,
        stream: client.counters,
      },
      datapath: dp.counters,
      workflow: workflow.counters,
      flows: workflow.flows.stats,
      simulation: Object.fromEntries(workflow.state.counters),
      config: {
        maxFlows: workflow.flows.maxFlows, sim: workflow.state.config, settings: config,
        // What each setting made of the running agent.
        applied: {
          tunnelPort, bindingSocket, logLevel: logger.level, bgp: bgp.defaults,
          metadata: { enabled: metadata.enabled, ...metadata.settings },
        },
      },
      ports: dp.ports(),
      metadata: metadata.counters,
      bgp: bgp.counters,
      natBlocks: natBlocks.counters,
      failures: failures.count,
    }),
    bind: async (portId: string, interfaceName: string) => {
      const r = await api(client, 'POST', `/hosts/${hostId}/ports`, { portId, interfaceName });
      if (r.status !== 201) throw new Error(`bind failed: ${r.status} ${await r.text()}`);
    },
    unbind: async (portId: string) => {
      const r = await api(client, 'DELETE', `/hosts/${hostId}/ports/${portId}`);
      if (r.status !== 204 && r.status !== 404) throw new Error(`unbind failed: ${r.status} ${await r.text()}`);
    },
    ...(nullDp ? { inject: (portId: string, bytes: Uint8Array) => nullDp.inject(portId, bytes) } : {}),
  };
  const metricsPort = Number(values['metrics-port']);
  const metricsServer = metricsPort > 0
    ? metrics.listen(metricsPort, values['metrics-address']!, () => client.connected, (err) => logger.warn({ port: metricsPort, err: err.message }, 'metrics and health endpoints not served'))
    : null;
  let bindingSocket = values['binding-socket'] ?? DEFAULT_BINDING_SOCKET;
  const serveBinding = (path: string) => startBindingApi(path, binder).catch((err: Error) => {
    logger.error({ socket: path, err: err.message }, 'binding API not available');
    return null;
  });
  let bindingServer = await serveBinding(bindingSocket);

  // Settings from mn-conf, applied as they change (polled; MidoNet watches them in ZooKeeper).
  let config: Record<string, unknown> = {};
  const refreshConfig = async () => {
    const c = await fetchAgentConfig(client.current, hostId, await client.token().headers().catch(() => ({})));
    if (c) {
      config = c;
      applyAgentConfig(c, workflow);
      fastPath(c['agent.datapath.fast_path'] !== false);
      const level = values['log-level'] === undefined ? levelOf(c['agent.loggers.root']) : null;
      if (level) setLogLevel(level);
      bgp.configure(c);
      await metadata.apply(c);
      const port = Number(c['agent.datapath.vxlan_overlay_udp_port']);
      if (values['tunnel-port'] === undefined && Number.isInteger(port) && port > 0 && port < 65536 && port !== tunnelPort) {
        await userspace?.openTunnel(port);
        workflow.setTunnelPort((tunnelPort = port));
        logger.info({ port }, 'overlay moved to another UDP port');
      }
      const socket = c['agent.minions.binding_api.unix_socket'];
      if (values['binding-socket'] === undefined && typeof socket === 'string' && socket !== '' && socket !== bindingSocket) {
        bindingServer?.close();
        bindingServer = await serveBinding((bindingSocket = socket));
        logger.info({ socket }, 'binding API moved');
      }
    }
  };
  void refreshConfig();
  let ticks = 0;
  let polling = false;
  let invalidated = 0;
  /** The figures the console shows for this host, when they changed. */
  const publishStats = () => {
    const stats: HostStats = { flows: w.flows.stats.flows, simulations: w.counters.simulations, flowHits: w.counters.flowHits, dropped: w.counters.dropped };
    const value = JSON.stringify(stats);
    if (value === published || !client.connected) return;
    published = value;
    client.setState(T.Host, hostId, HOST_STATS, value);
  };
  const storm = rateLimited(logger, 'warn', 60_000);
  // Unused devices are looked for every 10 s, or sooner when they may idle less.
  const sweepEvery = Math.max(1, Math.min(10, Math.floor(deviceIdleMs / 2000)));
  const timer = setInterval(() => {
    try {
      workflow.tick();
      // A change that throws away a large share of the flows in a second costs every host a burst
      // of simulations: operators want to hear about it.
      const fresh = workflow.flows.stats.invalidated - invalidated;
      invalidated += fresh;
      if (fresh >= INVALIDATION_STORM) storm('invalidation', { flows: fresh, remaining: workflow.flows.stats.flows }, 'flow invalidation storm');
      if (ticks % reconcileEvery === 0) void reconcile().catch(failed('reconcile'));
      if (!polling) {
        polling = true;
        void bgp.poll().catch(failed('BGP poll')).finally(() => (polling = false));
      }
      if (++ticks % 5 === 0) {
        void refreshConfig().catch(failed('configuration'));
        publishStats();
      }
      if (ticks % sweepEvery === 0) cache.sweep(Date.now(), deviceIdleMs, (tag) => workflow.flows.hasTag(tag));
    } catch (err) {
      failed('periodic work')(err);
    }
  }, 1000);
  logger.info({ host: hostId, name: values['host-name'], cluster: clusters, datapath: virtual ? 'none' : programs ? 'kernel fast path + userspace' : 'userspace', vxlanPort: virtual ? null : tunnelPort, gre: gre }, 'midolman started');

  /** SIGTERM/SIGINT: speakers and proxies stopped, the session closed (its keys go), the datapath closed; within 2 s whatever happens. */
  const stop = async () => {
    setTimeout(() => process.exit(0), 1500).unref();
    watchdog.stop();
    clearInterval(timer);
    links?.stop();
    await Promise.all([bgp.stop(), metadata.stop()]);
    bindingServer?.close();
    metricsServer?.close();
    client.close();
    await dp.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
