/**
 * Findings 4, 5 and 7 on real ZooKeeper: two cluster processes allocate nothing twice, acknowledged
 * writes survive follower and leader kills and lost answers are resolved without duplicates, and
 * an expired session heals by itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClusterProcess } from '../helpers/cluster.ts';
import { V } from '../helpers/api.ts';
import { ADMIN, SecureCluster } from '../helpers/secure-cluster.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';
import { ZooKeeperEnsemble, ZooKeeperServer } from '../helpers/zookeeper.ts';

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two clusters on a three-node ZooKeeper ensemble', { timeout: 300_000 }, () => {
  let zk: ZooKeeperEnsemble;
  let a: SecureCluster;
  let b: SecureCluster;
  let token: string;
  before(async () => {
    zk = await ZooKeeperEnsemble.start();
    const rootKey = `/t${Math.floor(Math.random() * 1e9)}`;
    a = await SecureCluster.start(['--zookeeper', zk.hosts, '--root-key', rootKey]);
    b = await SecureCluster.start(['--zookeeper', zk.hosts, '--root-key', rootKey]);
    token = await a.token(ADMIN.name, ADMIN.password);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await zk?.destroy();
  });

  const neutron = async (c: SecureCluster, path: string, body: Json): Promise<{ status: number; json: Json }> => {
    const r = await fetch(`${c.cluster.neutronUrl}/v2.0/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-auth-token': token }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Json };
  };

  it('shares tokens: a login on one cluster process opens the other', async () => {
    assert.equal((await b.call(token, 'GET', '/routers')).status, 200);
  });

  it('gives 50 ports made at once through both clusters 50 addresses, and 40 floating IPs 40 addresses', async () => {
    const net = (await neutron(a, 'networks', { network: { name: 'busy' } })).json.network;
    await neutron(b, 'subnets', { subnet: { network_id: net.id, cidr: '10.77.0.0/24', ip_version: 4 } });
    const ports = await Promise.all(Array.from({ length: 50 }, (_, i) => neutron(i % 2 ? a : b, 'ports', { port: { network_id: net.id, name: `p${i}` } })));
    assert.deepEqual(ports.map((p) => p.status), ports.map(() => 201));
    assert.equal(new Set(ports.map((p) => p.json.port.fixed_ips[0].ip_address)).size, 50, 'no address given twice');
    assert.equal(new Set(ports.map((p) => p.json.port.mac_address)).size, 50);
    const ext = (await neutron(a, 'networks', { network: { name: 'public', 'router:external': true } })).json.network;
    await neutron(a, 'subnets', { subnet: { network_id: ext.id, cidr: '198.51.100.0/24', ip_version: 4 } });
    const fips = await Promise.all(Array.from({ length: 40 }, (_, i) => neutron(i % 2 ? a : b, 'floatingips', { floatingip: { floating_network_id: ext.id } })));
    assert.deepEqual(fips.map((f) => f.status), fips.map(() => 201));
    assert.equal(new Set(fips.map((f) => f.json.floatingip.floating_ip_address)).size, 40, 'no floating IP given twice');
  });

  it('loses no acknowledged write and makes no duplicate while a follower and then the leader die', async () => {
    const acked = new Set<string>();
    let failures = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const name = `w${w}-${n}`;
        // A client that retries until it hears success: a failure must mean "not written".
        for (let attempt = 0; attempt < 200; attempt++) {
          const r = await (w % 2 ? a : b).call(token, 'POST', '/routers', { name }).catch(() => ({ status: 0 }));
          if (r.status === 201) {
            acked.add(name);
            break;
          }
          failures++;
          await sleep(100);
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    await sleep(1500);
    const follower = await zk.follower();
    await zk.kill(follower);
    await sleep(3000);
    await zk.startNode(follower);
    await sleep(1500);
    const leader = await zk.leader();
    await zk.kill(leader);
    await sleep(4000);
    await zk.startNode(leader);
    await sleep(2000);
    stop = true;
    await Promise.all(writers);
    const routers = (await a.call(token, 'GET', '/routers')).json as Json[];
    const count = new Map<string, number>();
    for (const r of routers) if (/^w\d+-\d+$/.test(r.name)) count.set(r.name, (count.get(r.name) ?? 0) + 1);
    const lost = [...acked].filter((n) => !count.has(n));
    const twice = [...count].filter(([, k]) => k > 1).map(([n]) => n);
    assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged writes lost`);
    assert.deepEqual(twice, [], 'written twice');
    assert.ok(acked.size > 50, `only ${acked.size} writes landed`);
    assert.equal(count.size, acked.size, 'every router written is one a writer heard of');
    console.log(`# ${acked.size} writes acknowledged, ${failures} refused and retried, none lost or doubled`);
  });
});

describe('a cluster whose ZooKeeper session expires', { timeout: 180_000 }, () => {
  let zk: ZooKeeperServer;
  let dir: string;
  let a: ClusterProcess;
  let b: ClusterProcess;
  let agent: VirtualAgent;
  before(async () => {
    zk = await ZooKeeperServer.start();
    dir = mkdtempSync(join(tmpdir(), 'expiry-'));
    a = await ClusterProcess.start(['--zookeeper', zk.hosts, '--session-timeout', '3']);
    b = await ClusterProcess.start(['--zookeeper', zk.hosts]);
    agent = await VirtualAgent.start(a.url, dir, 'paused-cluster-agent');
  });
  after(async () => {
    await agent?.stop();
    a?.proc.kill('SIGCONT');
    await a?.stop();
    await b?.stop();
    await zk?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('heals by itself: a new session, the agent alive again, and what changed meanwhile delivered', async () => {
    const call = async (c: ClusterProcess, method: string, path: string, body?: unknown, type = 'application/json') => {
      const r = await fetch(`${c.url}${path}`, { method, headers: { accept: 'application/json', 'content-type': type }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, json: text ? (JSON.parse(text) as Json) : null, location: r.headers.get('location') };
    };
    const tz = (await call(b, 'POST', '/tunnel_zones', { name: 'tz', type: 'vxlan' })).location!.split('/').pop();
    assert.equal((await call(b, 'POST', `/tunnel_zones/${tz}/hosts`, { hostId: agent.id, ipAddress: '10.88.0.1' }, V('TunnelZoneHost-v1'))).status, 201);
    const bridge = (await call(b, 'POST', '/bridges', { name: 'b' })).location!.split('/').pop();
    const port = (await call(b, 'POST', `/bridges/${bridge}/ports`, { type: 'Bridge' })).location!.split('/').pop();

    a.proc.kill('SIGSTOP');
    await sleep(7000);
    // Meanwhile, through the other cluster: the agent's host gets a port.
    assert.equal((await call(b, 'POST', `/hosts/${agent.id}/ports`, { portId: port, interfaceName: 'tapx' })).status, 201);
    assert.equal((await call(b, 'GET', `/hosts/${agent.id}`)).json!.alive, false, "the paused cluster's session took the agent's keys with it");
    a.proc.kill('SIGCONT');
    const resumed = Date.now();
    for (;;) {
      const r = await call(a, 'GET', '/routers').catch(() => ({ status: 0 }));
      const alive = (await call(b, 'GET', `/hosts/${agent.id}`)).json!.alive === true;
      const m = await agent.metrics();
      if (r.status === 200 && alive && m.ports.includes(port!)) break;
      assert.ok(Date.now() - resumed < 10_000, `not healed 10 s after resuming: API ${r.status}, alive ${alive}, agent ports ${JSON.stringify(m.ports)}`);
      await sleep(200);
    }
    assert.equal((await call(a, 'GET', '/system_state')).json!.availability, 'READWRITE');
    assert.equal((await fetch(a.url.replace('/midonet-api', '/readyz'))).status, 200);
  });
});
