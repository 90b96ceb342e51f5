import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiClient } from '../../src/cli/midonet-cli/client.ts';
import { Session } from '../../src/cli/midonet-cli/shell.ts';
import { ClusterProcess } from '../helpers/cluster.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/midonet-cli.js', import.meta.url));

/** Types commands into midonet-cli on a pseudo-terminal (as an operator would); returns the screen text. */
function interactive(url: string, input: string, auth = '-A', home = tmpdir()): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qc', `${process.execPath} ${CLI} ${auth} --midonet-url=${url}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HOME: home } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', () => resolve(out.replace(/\r/g, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')));
    // Lines one by one, each after the previous answer had time to come; a tab is typed on its
    // own, as a key press (readline takes a burst of input for a paste and inserts tabs as text).
    const chunks = input.split('\n').flatMap((l) => `${l}\n`.split(/(\t)/)).filter((c) => c !== '');
    const feed = (i: number) => {
      if (i >= chunks.length) return void p.stdin.end();
      p.stdin.write(chunks[i]!);
      setTimeout(() => feed(i + 1), 250);
    };
    setTimeout(() => feed(0), 1200);
  });
}

describe('midonet-cli', { timeout: 120_000 }, () => {
  let cluster: ClusterProcess;
  let dir: string;
  const hosts: Record<string, string> = {};
  let router: string;
  const api = (path: string, init?: RequestInit) => fetch(`${cluster.url}${path}`, { ...init, headers: { accept: 'application/json', 'content-type': 'application/json' } });
  const post = async (path: string, body: unknown) => (await api(path, { method: 'POST', body: JSON.stringify(body) })).headers.get('location')!.split('/').pop()!;
  const get = async (path: string) => (await api(path)).json() as Promise<any>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-'));
    cluster = await ClusterProcess.start(['--data-dir', dir]);
    for (const name of ['controller', 'gateway1', 'gateway2', 'compute1']) hosts[name] = await post('/hosts', { name });
    // The edge router and its uplink ports, as the quickstart's chapter 6 leaves them.
    router = await post('/routers', { name: 'Edge Router' });
    await post(`/routers/${router}/ports`, { type: 'Router', portAddress: '198.51.100.2', networkLength: 30, portMac: 'fa:16:3e:11:11:11' });
    await post(`/routers/${router}/ports`, { type: 'Router', portAddress: '203.0.113.2', networkLength: 30, portMac: 'fa:16:3e:22:22:22' });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays the quickstart: tunnel zone, host registration, BGP uplinks (interactive, with aliases)', async () => {
    const screen = await interactive(cluster.url, [
      'tunnel-zone create name tz type vxlan',
      'list tunnel-zone',
      'list host',
      'tunnel-zone tzone0 add member host host0 address 192.0.2.10',
      'tunnel-zone tzone0 add member host host1 address 192.0.2.11',
      'tunnel-zone tzone0 add member host host2 address 192.0.2.12',
      'tunnel-zone tzone0 add member host host3 address 192.0.2.13',
      'router list',
      'router router0 port list',
      'router router0 set asn 64512',
      'router router0 add bgp-peer asn 64513 address 198.51.100.1',
      'router router0 add bgp-peer asn 64514 address 203.0.113.1',
      'router router0 list bgp-peer',
      'router router0 bgp-peer peer0 set password BGP_PASSWORD',
      'router router0 bgp-peer peer1 set password BGP_PASSWORD',
      'router router0 bgp-peer peer0 set connect-retry 10',
      'router router0 bgp-peer peer0 set hold-time 5',
      'router router0 bgp-peer peer0 set keep-alive 5',
      'router router0 list bgp-peer',
      'router router0 route add src 0.0.0.0/0 dst 198.51.100.0/30 port router0:port0 type normal',
      'router router0 add bgp-network net 192.0.2.0/24',
      'router router0 list bgp-network',
      'quit',
    ].join('\n'));
    assert.match(screen, /^tzone0$/m);
    assert.match(screen, /^tzone tzone0 name tz type vxlan$/m);
    assert.match(screen, /^host host0 name \S+ alive false$/m);
    assert.match(screen, /^router router0 name Edge Router state up$/m);
    assert.match(screen, /^port port0 device router0 state up mac fa:16:3e:(11:11:11|22:22:22) address /m);
    assert.match(screen, /^router0:peer0$/m);
    assert.match(screen, /^peer peer0 asn 6451[34] address \S+ keep-alive 5 hold-time 5 connect-retry 10$/m);
    assert.match(screen, /^router0:route0$/m);
    assert.match(screen, /^router0:net0$/m);
    assert.match(screen, /^net net0 net 192\.0\.2\.0\/24$/m);

    const [tz] = await get('/tunnel_zones');
    assert.equal(tz.type, 'vxlan');
    const members = await (await fetch(`${cluster.url}/tunnel_zones/${tz.id}/hosts`, { headers: { accept: 'application/vnd.org.midonet.collection.TunnelZoneHost-v1+json' } })).json() as { hostId: string; ipAddress: string }[];
    assert.deepEqual(members.map((m) => m.ipAddress).sort(), ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13']);
    assert.deepEqual(new Set(members.map((m) => m.hostId)), new Set(Object.values(hosts)));
    assert.equal((await get(`/routers/${router}`)).asNumber, 64512);
    const peers = await get(`/routers/${router}/bgp_peers`) as { asNumber: number; password: string; keepAlive: number; holdTime: number; connectRetry: number }[];
    assert.equal(peers.length, 2);
    assert.ok(peers.every((p) => p.password === 'BGP_PASSWORD'));
    assert.equal(peers.filter((p) => p.keepAlive === 5 && p.holdTime === 5 && p.connectRetry === 10).length, 1);
    const routes = await get(`/routers/${router}/routes`) as { type: string; dstNetworkAddr: string; dstNetworkLength: number }[];
    assert.ok(routes.some((r) => r.type === 'Normal' && r.dstNetworkAddr === '198.51.100.0' && r.dstNetworkLength === 30));
    const nets = await get(`/routers/${router}/bgp_networks`) as { subnetAddress: string }[];
    assert.deepEqual(nets.map((n) => n.subnetAddress), ['192.0.2.0']);
  });

  it('replays the Eucalyptus guide with -A --midonet-url= and the gre "add" form', async () => {
    const screen = await interactive(cluster.url, ['tunnel-zone add name eucatz type gre', 'tunnel-zone list', 'host list', 'quit'].join('\n'));
    assert.match(screen, /^tzone tzone\d name eucatz type gre$/m);
    const zones = await get('/tunnel_zones') as { name: string; type: string }[];
    assert.ok(zones.some((z) => z.name === 'eucatz' && z.type === 'gre'));
  });

  it('keeps its history across sessions, and lists tenants', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cli-home-'));
    try {
      await interactive(cluster.url, ['list tenant', 'quit'].join('\n'), '-A', home);
      // Up arrow twice (past its `quit`), then Enter: the last session's command again.
      const screen = await interactive(cluster.url, ['\x1b[A\x1b[A', 'quit'].join('\n'), '-A', home);
      assert.match(screen, /tenant tenant0 name admin description Admin Tenant enabled true/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('completes verbs, objects and aliases on tab, and carries on after errors', async () => {
    const screen = await interactive(cluster.url, ['rou\t list', 'foo bar', 'router router9 show', 'quit'].join('\n'));
    assert.match(screen, /router router\d name Edge Router state up/);
    assert.match(screen, /Unknown object or command: foo/);
    assert.match(screen, /Unknown router router9/);
  });

  it('logs in with -u and a password asked for without echo (-p) when the API wants credentials', async () => {
    const users = join(dir, 'users.json');
    writeFileSync(users, JSON.stringify({ users: [{ name: 'admin', password: 'pa55word' }] }));
    const closed = await ClusterProcess.start(['--data-dir', join(dir, 'closed'), '--auth-file', users]);
    try {
      const screen = await interactive(closed.url, 'pa55word\nrouter list\nquit', '-u admin -p');
      assert.match(screen, /Password:/);
      assert.doesNotMatch(screen, /pa55word/);
      assert.doesNotMatch(screen, /failed to respond/);
      const refused = await interactive(closed.url, 'wrong\nquit', '-u admin -p');
      assert.match(refused, /The API server failed to respond normally/);
    } finally {
      await closed.stop();
    }
  });

  it('-e prints UUIDs, one line per error, non-zero exit', async () => {
    const ok = await run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url, '-e', 'router list']);
    assert.match(ok.stdout, new RegExp(`^router ${router} name Edge Router state up( asn 64512)?$`, "m"));
    for (const cmd of ['nonsense', 'router router9 show', 'router create name x state sideways', 'router list bgp-peer extra']) {
      const bad = await run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url, '-e', cmd]).catch((e: { code: number; stderr: string }) => e);
      assert.equal((bad as { code: number }).code, 1, cmd);
      assert.equal((bad as { stderr: string }).stderr.trim().split('\n').length, 1, `one line for ${cmd}: ${(bad as { stderr: string }).stderr}`);
    }
    const rules = await run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url,
      '-e', 'chain create name guard',
      '-e', 'chain chain0 add rule src !10.0.0.0/8 proto 6 dst-port 22 type drop',
      '-e', 'chain chain0 add rule type snat action accept target 192.0.2.1-192.0.2.2:1000-2000 out-ports !router0:port0',
      '-e', 'chain chain0 rule list']);
    assert.match(rules.stdout, /^rule \S+ type drop pos 2 src !10\.0\.0\.0\/8 proto 6 dst-port 22/m);
    assert.match(rules.stdout, /^rule \S+ type snat pos 1 out-ports !\S+ action accept target 192\.0\.2\.1-192\.0\.2\.2:1000-2000/m);
    const more = await run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url,
      '-e', 'bridge create name net',
      '-e', 'bridge bridge0 add dhcp subnet 10.0.0.0/24 routers 10.0.0.1 dns-servers 8.8.8.8',
      '-e', 'bridge bridge0 dhcp dhcp0 add host mac aa:bb:cc:dd:ee:ff address 10.0.0.5 name vm1',
      '-e', 'bridge bridge0 dhcp dhcp0 host list',
      '-e', 'ip-address-group create name web',
      '-e', 'ip-address-group ipg0 add ip address 10.0.0.9',
      '-e', 'port-group create name pg stateful true',
      '-e', 'bridge bridge0 add port',
      '-e', 'port-group pgroup0 add member port bridge0:port0',
      '-e', 'port-group pgroup0 member list']);
    assert.match(more.stdout, /^dhcp-host aa:bb:cc:dd:ee:ff name vm1 mac aa:bb:cc:dd:ee:ff address 10\.0\.0\.5$/m);
    const [bridge] = await get('/bridges');
    const [subnet] = await (await fetch(`${cluster.url}/bridges/${bridge.id}/dhcp`, { headers: { accept: 'application/vnd.org.midonet.collection.DhcpSubnet-v2+json' } })).json() as { defaultGateway: string; dnsServerAddrs: string[] }[];
    assert.deepEqual([subnet!.defaultGateway, subnet!.dnsServerAddrs], ['10.0.0.1', ['8.8.8.8']]);
    const [group] = await get('/port_groups');
    assert.equal(group.stateful, true);
    const members = await (await fetch(`${cluster.url}/port_groups/${group.id}/ports`, { headers: { accept: 'application/vnd.org.midonet.collection.PortGroupPort-v1+json' } })).json() as unknown[];
    assert.equal(members.length, 1);
    const [ipg] = await (await fetch(`${cluster.url}/ip_addr_groups`, { headers: { accept: 'application/vnd.org.midonet.collection.IpAddrGroup-v1+json' } })).json() as { ipAddrPorts: { ipAddress: string }[] }[];
    assert.deepEqual(ipg!.ipAddrPorts.map((a) => a.ipAddress), ['10.0.0.9']);
    const json = await run(process.execPath, [CLI, '-A', '--json', '--midonet-url', cluster.url, '-e', 'router list']);
    assert.equal(JSON.parse(json.stdout.trim()).id, router, '--json prints the API objects');
    const down = await run(process.execPath, [CLI, '-A', '--midonet-url', 'http://127.0.0.1:1/midonet-api', '-e', 'router list']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((down as { code: number }).code, 1);
    assert.equal((down as { stderr: string }).stderr, 'The API server failed to respond normally. The network DB is possibly down. Bye.\n');
  });
  it("speaks MidoNet's grammar: -e takes the rest of the line, -h, verb prefixes, list filters, sett, proto names, system-state, every port", async () => {
    const cli = (...args: string[]) => run(process.execPath, [CLI, '-A', '--midonet-url', cluster.url, ...args]);
    const fails = (...args: string[]) => cli(...args).then(() => assert.fail(`${args.join(' ')} succeeded`), (e: { code: number; stdout: string; stderr: string }) => e);
    const help = await run(process.execPath, [CLI, '-h']);
    assert.match(help.stdout, /^Usage: midonet-cli/);
    assert.match(help.stdout, /-e, --eval/);
    const bogus = await run(process.execPath, [CLI, '--bogus']).catch((e: { code: number; stderr: string }) => e);
    assert.equal((bogus as { code: number }).code, 2);
    assert.equal((bogus as { stderr: string }).stderr.trim().split('\n').length, 1);

    // `-e` is a flag: the command is every argument after it, as MidoNet's shell takes it.
    assert.match((await cli('-e', 'router', 'list')).stdout, new RegExp(`^router ${router} name Edge Router`, 'm'));
    const t1 = '7d3b1f0e-0000-4000-8000-00000000a001';
    const t2 = '7d3b1f0e-0000-4000-8000-00000000a002';
    const edge = await post('/routers', { name: 'edge', tenantId: t1 });
    const core = await post('/routers', { name: 'core', tenantId: t2 });

    // Verb prefixes: l[ist], s[how], desc[ribe], del[ete].
    assert.match((await cli('-e', 'l', 'router')).stdout, new RegExp(`^router ${edge} name edge`, 'm'));
    assert.equal((await cli('-e', 'sh', 'router', edge)).stdout, `router ${edge} name edge state up tenant ${t1}\n`);
    assert.equal((await cli('-e', 'router', edge, 's', 'name')).stdout, 'edge\n');
    assert.match((await cli('-e', 'desc', 'router')).stdout, /Fields:\n\s+name\s+state/);
    assert.equal((await fails('-e', 'de', 'router', edge)).code, 1, '"de" is neither delete nor describe');

    // List filters, and objects picked by their fields.
    assert.deepEqual((await cli('-e', 'list', 'router', 'name', 'edge')).stdout.trim().split('\n'), [`router ${edge} name edge state up tenant ${t1}`]);
    assert.equal((await cli('-e', 'list', 'router', 'name', 'nothing')).stdout, '');
    await cli('-e', 'set', 'router', 'name', 'edge', 'state', 'down');
    assert.equal((await get(`/routers/${edge}`)).adminStateUp, false);
    assert.equal((await cli('-e', 'router', 'name', 'edge', 'show', 'state')).stdout, 'down\n');
    assert.match((await fails('-e', 'router', 'state', 'up', 'show')).stderr, /objects of type router have state up/);

    // The session's tenant filters lists of its collections.
    const scoped = await cli('-e', 'sett', t1, '-e', 'router', 'list');
    assert.deepEqual(scoped.stdout.trim().split('\n').map((l) => l.split(' ')[1]), [edge]);
    const cleared = await cli('-e', 'sett', t1, '-e', 'cleart', '-e', 'router', 'list');
    assert.ok(cleared.stdout.includes(core) && cleared.stdout.includes(edge));
    await cli('-e', 'sett', t2, '-e', 'chain', 'create', 'name', 'web');
    const [web] = (await get('/chains') as { id: string; name: string; tenantId: string }[]).filter((c) => c.name === 'web');
    assert.equal(web!.tenantId, t2, 'creates take the session tenant');

    // Protocol names in rules.
    await cli('-e', 'chain', 'name', 'web', 'add', 'rule', 'proto', 'tcp', 'dst-port', '80', 'type', 'accept');
    await cli('-e', 'chain', 'name', 'web', 'add', 'rule', 'proto', '!udp', 'type', 'drop');
    const rules = await get(`/chains/${web!.id}/rules`) as { nwProto: number; invNwProto: boolean; type: string }[];
    assert.deepEqual(rules.map((r) => [r.type, r.nwProto, r.invNwProto]).sort(), [['accept', 6, false], ['drop', 17, true]]);
    assert.equal((await cli('-e', 'chain', 'name', 'web', 'list', 'rule', 'proto', 'tcp')).stdout.trim().split('\n').length, 1);
    assert.match((await fails('-e', 'chain', 'name', 'web', 'add', 'rule', 'proto', 'tcpx', 'type', 'drop')).stderr, /proto must be/);

    // The root's single object, and every port of the cloud.
    assert.equal((await cli('-e', 'show', 'system-state')).stdout, 'system_state state ACTIVE availability READWRITE\n');
    assert.equal((await cli('-e', 'system-state', 'show', 'availability')).stdout, 'READWRITE\n');
    const ports = (await cli('-e', 'list', 'port', 'device', router)).stdout.trim().split('\n');
    assert.equal(ports.length, 2);
    assert.ok(ports.every((l) => l.startsWith('port ') && l.includes(`device ${router}`)));
    assert.ok((await cli('-e', 'port', 'list')).stdout.trim().split('\n').length >= 2);

    // help COMMAND, and del[ete] by field.
    assert.match((await cli('-e', 'help', 'list')).stdout, /Usage: l\[ist\]/);
    assert.match((await cli('-e', 'help', 'sh')).stdout, /^show - /);
    await cli('-e', 'del', 'router', 'name', 'core');
    assert.equal((await api(`/routers/${core}`)).status, 404);
  });

  it('completes from where the cursor is, without deleted aliases', async () => {
    const session = new Session(new ApiClient(cluster.url), await get(''), true);
    await session.run('bridge create name c1');
    await session.run('bridge create name c2');
    await session.run('list bridge');
    const before = session.completions('bridge ').filter((c) => /^bridge\d+$/.test(c));
    assert.ok(before.length >= 2);
    const last = before.at(-1)!;
    await session.run(`delete bridge ${last}`);
    assert.ok(!session.completions('bridge ').includes(last), 'a deleted bridge is not offered');
    assert.ok(session.completions(`bridge ${before[0]} `).includes('port'), "a bridge's children");
    assert.ok(session.completions(`bridge ${before[0]} `).includes('dhcp'));
    assert.ok(!session.completions(`bridge ${before[0]} `).includes('router'), 'no root collections under a bridge');
    assert.ok(session.completions(`bridge ${before[0]} set `).includes('name'), 'fields to set');
    assert.ok(!session.completions(`bridge ${before[0]} set `).includes('port'));
    assert.deepEqual(session.completions('help ').filter((c) => c.startsWith('li')), ['list']);
    assert.ok(session.completions('').includes('system-state'));
  });
});
