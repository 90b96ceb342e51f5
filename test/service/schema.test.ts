/**
 * Every key of the mn-conf schema changes what a daemon does: set through the cluster's /conf (as
 * mn-conf does), each is seen in a running agent's configuration in force or in the cluster's
 * behaviour after a restart. A key added to the schema without a check here fails this test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { SCHEMA } from '../../src/conf/schema.ts';
import { ClusterProcess, freePort } from '../helpers/cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';

type Json = Record<string, any>;

describe('the mn-conf schema', { timeout: 240_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let agent: VirtualAgent;
  const args = () => ['--data-dir', join(dir, 'nsdb')];
  const conf = async (hocon: string) => {
    const r = await fetch(`${cluster.url}/conf/templates/default`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: hocon });
    assert.equal(r.status, 204, await r.text());
  };
  const restart = async (extra: string[] = [], fromConf = false, port?: number) => {
    await cluster.stop();
    cluster = await ClusterProcess.start([...args(), ...extra], port, '127.0.0.1', fromConf);
  };
  let applied: Json;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'schema-'));
    cluster = await ClusterProcess.start(args());
    agent = await VirtualAgent.start(cluster.url, dir, 'schema-agent', [], { socket: null });
    // Every agent key at a value other than its default, at once.
    await conf([
      'agent.midolman.dhcp_mtu = 1400', 'agent.midolman.enable_bridge_arp = false', 'agent.midolman.bgp_keepalive = 7s',
      'agent.midolman.bgp_holdtime = 21s', 'agent.midolman.bgp_connect_retry = 9s', 'agent.bridge.mac_port_mapping_expire = 33s',
      'agent.arptable.arp_retry_interval = 3s', 'agent.arptable.arp_timeout = 31s', 'agent.arptable.arp_stale = 29s',
      'agent.arptable.arp_expiration = 41s', 'agent.router.max_bgp_peer_routes = 17', 'agent.datapath.vxlan_overlay_udp_port = 6699',
      'agent.datapath.max_flow_count = 12345', 'agent.openstack.metadata.nova_metadata_url = "http://nova.test:8775"',
      'agent.openstack.metadata.shared_secret = "s3cret"', `agent.minions.binding_api.unix_socket = "${join(dir, 'moved.sock')}"`,
      'agent.loggers.root = DEBUG',
    ].join('\n'));
    // The agent reads its configuration every 5 s, and moves its binding socket when told.
    const end = Date.now() + 30_000;
    for (;;) {
      agent.socket = join(dir, 'moved.sock');
      const m = await agent.metrics().catch(() => null);
      if (m && (m as Json).config.sim.dhcpMtu === 1400) {
        applied = (m as Json).config;
        break;
      }
      assert.ok(Date.now() < end, 'the agent did not take the configuration');
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  after(async () => {
    await agent?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const checks: Record<string, () => Promise<void> | void> = {
    'agent.midolman.dhcp_mtu': () => assert.equal(applied.sim.dhcpMtu, 1400),
    'agent.midolman.enable_bridge_arp': () => assert.equal(applied.sim.bridgeArp, false),
    'agent.midolman.bgp_keepalive': () => assert.equal(applied.applied.bgp.keepAlive, 7),
    'agent.midolman.bgp_holdtime': () => assert.equal(applied.applied.bgp.holdTime, 21),
    'agent.midolman.bgp_connect_retry': () => assert.equal(applied.applied.bgp.connectRetry, 9),
    'agent.router.max_bgp_peer_routes': () => assert.equal(applied.applied.bgp.maxRoutes, 17),
    'agent.bridge.mac_port_mapping_expire': () => assert.equal(applied.sim.macExpiryMs, 33_000),
    'agent.arptable.arp_retry_interval': () => assert.equal(applied.sim.arpRetryMs, 3_000),
    'agent.arptable.arp_timeout': () => assert.equal(applied.sim.arpTimeoutMs, 31_000),
    'agent.arptable.arp_stale': () => assert.equal(applied.sim.arpStaleMs, 29_000),
    'agent.arptable.arp_expiration': () => assert.equal(applied.sim.arpExpiryMs, 41_000),
    'agent.datapath.vxlan_overlay_udp_port': () => assert.equal(applied.applied.tunnelPort, 6699),
    'agent.datapath.max_flow_count': () => assert.equal(applied.maxFlows, 12345),
    'agent.openstack.metadata.nova_metadata_url': () => assert.equal(applied.applied.metadata.novaUrl, 'http://nova.test:8775'),
    'agent.openstack.metadata.shared_secret': () => assert.equal(applied.applied.metadata.secret, true),
    // Enabling it plumbs a kernel interface: the e2e test does that inside its lab's namespaces.
    'agent.openstack.metadata.enabled': () => assert.match(readFileSync(new URL('../e2e/metadata.test.ts', import.meta.url), 'utf8'), /agent\.openstack\.metadata\.enabled : true/),
    // Each is set and its effect checked against a real Keystone by the Keystone test.
    ...Object.fromEntries(Object.keys(SCHEMA).filter((k) => k.startsWith('cluster.auth.')).map((k) => [k, () => assert.ok(readFileSync(new URL('../security/keystone.test.ts', import.meta.url), 'utf8').includes(`${k} = `), `${k} is exercised`)])),
    // Turning it off and on again is measured on real traffic by the fast-path e2e test.
    'agent.datapath.fast_path': () => assert.match(readFileSync(new URL('../e2e/fast-path.test.ts', import.meta.url), 'utf8'), /agent\.datapath\.fast_path = false/),
    'agent.minions.binding_api.unix_socket': () => assert.equal(applied.applied.bindingSocket, join(dir, 'moved.sock')),
    'agent.loggers.root': () => assert.equal(applied.applied.logLevel, 'debug'),
    'cluster.translators.nat.dynamic_port_start': async () => {
      await conf('cluster.translators.nat.dynamic_port_start = 20000\ncluster.translators.nat.dynamic_port_end = 20999');
      const neutron = async (path: string, body: Json) => ((await (await fetch(`${cluster.neutronUrl}/v2.0/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Json);
      const ext = (await neutron('networks', { network: { name: 'ext', 'router:external': true } })).network;
      await neutron('subnets', { subnet: { network_id: ext.id, cidr: '203.0.113.0/24', ip_version: 4 } });
      const router = (await neutron('routers', { router: { name: 'r', external_gateway_info: { network_id: ext.id } } })).router;
      const r = (await (await fetch(`${cluster.url}/routers/${router.id}`, { headers: { accept: 'application/json' } })).json()) as Json;
      const rules = (await (await fetch(`${cluster.url}/chains/${r.outboundFilterId}/rules`, { headers: { accept: 'application/json' } })).json()) as Json[];
      const snat = rules.find((x) => x.type === 'snat');
      assert.deepEqual([snat?.natTargets[0].portFrom, snat?.natTargets[0].portTo], [20000, 20999]);
    },
    'cluster.translators.nat.dynamic_port_end': () => checks['cluster.translators.nat.dynamic_port_start']!(),
    'zookeeper.transaction_attempts': async () => {
      const burst = async (writers = 40) => {
        const b = (await fetch(`${cluster.url}/bridges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"busy"}' })).headers.get('location')!.split('/').pop();
        const answers = await Promise.all(Array.from({ length: writers }, () => fetch(`${cluster.url}/bridges/${b}/ports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"Bridge"}' })));
        return answers.filter((a) => a.status === 409).length;
      };
      await conf('zookeeper.transaction_attempts = 1');
      await restart();
      // Races are likely, not certain, on a fast machine: more and bigger bursts make one near sure
      // (a CI machine once lost none in 8 bursts of 40).
      let lost = 0;
      for (let i = 0; i < 30 && lost === 0; i++) lost = await burst(40 + 10 * i);
      assert.ok(lost > 0, 'one attempt: lost races answered 409');
      await conf('zookeeper.transaction_attempts = 24');
      await restart();
      assert.equal(await burst(), 0);
    },
    'cluster.loggers.root': async () => {
      await conf('cluster.loggers.root = WARN');
      await restart();
      await fetch(`${cluster.url}/routers`, { headers: { accept: 'application/json' } });
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(cluster.log, /"msg":"request"/);
      await conf('cluster.loggers.root = INFO');
    },
    'cluster.rest_api.enabled': async () => {
      await conf('cluster.rest_api.enabled = false');
      await restart();
      assert.equal((await fetch(`${cluster.url}/routers`)).status, 404);
      assert.equal((await fetch(cluster.url.replace('/midonet-api', '/healthz'))).status, 200);
      await conf('cluster.rest_api.enabled = true');
      await restart();
    },
    'cluster.compat_2012.anonymous_user': async () => {
      // Anonymous calls to the 2012 API (CloudStack's client sends no credentials): refused when
      // authentication is on, unless the key names who they act as.
      const users = join(dir, 'users.json');
      writeFileSync(users, JSON.stringify({ users: [{ name: 'cloudstack', password: 'x'.repeat(24) }] }));
      const routers = () => fetch(cluster.url.replace('/midonet-api', '/midolmanj-mgmt/routers'), { headers: { accept: 'application/vnd.com.midokura.midolman.mgmt.collection.Router+json' } });
      await restart(['--auth-file', users]);
      assert.equal((await routers()).status, 401);
      await restart();
      await conf('cluster.compat_2012.anonymous_user = cloudstack');
      await restart(['--auth-file', users]);
      assert.equal((await routers()).status, 200);
      await restart();
      await conf('cluster.compat_2012.anonymous_user = ""');
    },
    'cluster.topology_api.enabled': async () => {
      await conf('cluster.topology_api.enabled = false');
      await restart();
      const opened = await new Promise<boolean>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${cluster.port}/topology`);
        ws.on('open', () => resolve(true));
        ws.on('error', () => resolve(false));
        ws.on('unexpected-response', () => resolve(false));
      });
      assert.equal(opened, false);
      await conf('cluster.topology_api.enabled = true');
      await restart();
    },
    'cluster.rest_api.http_port': async () => {
      const port = await freePort();
      await conf(`cluster.rest_api.http_port = ${port}\ncluster.rest_api.http_host = "127.0.0.1"`);
      await restart([], true, port);
      assert.equal(cluster.port, port);
      assert.equal((await fetch(`http://127.0.0.1:${port}/midonet-api`, { headers: { accept: 'application/json' } })).status, 200);
    },
    'cluster.rest_api.http_host': () => checks['cluster.rest_api.http_port']!(),
  };

  it('has a check for every key, and no check for a key it does not have', () => {
    assert.deepEqual(Object.keys(SCHEMA).sort(), Object.keys(checks).sort());
  });
  for (const key of Object.keys(SCHEMA)) it(`${key} changes what a daemon does`, async () => {
    const check = checks[key];
    assert.ok(check, `no check for ${key}`);
    await check();
  });
});
