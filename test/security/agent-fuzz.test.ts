/**
 * Finding 2: no message wedges an agent. A fuzzer sits between a real agent and its cluster and
 * mixes random topology messages and state values into the stream; the agent stays alive, keeps
 * forwarding, and counts what it refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocket, WebSocketServer } from 'ws';
import { T } from '../../src/model/types.ts';
import { NT } from '../../src/model/neutron.ts';
import { buildEthernet } from '../../src/packets/ethernet.ts';
import { ClusterProcess } from '../helpers/cluster.ts';
import { udp } from '../helpers/topology.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';

type Json = Record<string, any>;

/**
 * A man in the middle of the agent's cluster link: HTTP calls go through as they are, the
 * topology stream too, with `inject()` messages added towards the agent.
 */
async function fuzzingProxy(target: string, port: number): Promise<{ server: Server; url: string; inject(text: string): void; close(): void }> {
  const agents = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers as IncomingHttpHeaders).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<string, string>;
      void fetch(`${target}${req.url}`, { method: req.method, headers, body: body || undefined }).then(async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers));
        res.end(Buffer.from(await r.arrayBuffer()));
      }, () => res.destroy());
    });
  });
  server.on('upgrade', (req, socket: Duplex, head) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${port}${req.url}`, { headers: { 'x-auth-token': String(req.headers['x-auth-token'] ?? '') } });
    upstream.on('open', () => wss.handleUpgrade(req, socket, head, (agent) => {
      agents.add(agent);
      upstream.on('message', (d) => agent.send(d.toString()));
      agent.on('message', (d) => upstream.send(d.toString()));
      agent.on('close', () => upstream.close());
      upstream.on('close', () => agent.close());
    }));
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    server,
    url: `http://127.0.0.1:${p}/midonet-api`,
    inject: (text) => {
      for (const a of agents) a.send(text);
    },
    close: () => {
      for (const a of agents) a.terminate();
      server.close();
    },
  };
}

describe('an agent under a fuzzed topology stream', { timeout: 120_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  let proxy: Awaited<ReturnType<typeof fuzzingProxy>>;
  let agent: VirtualAgent;
  let ports: Json[];
  let net: Json;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
    proxy = await fuzzingProxy(cluster.url.replace(/\/midonet-api$/, ''), cluster.port);
    agent = await VirtualAgent.start(proxy.url, dir, 'fuzzed');
    const post = async (path: string, body: Json) => {
      const r = await fetch(`${cluster.neutronUrl}/v2.0/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 201);
      return (await r.json()) as Json;
    };
    net = (await post('networks', { network: { name: 'n' } })).network;
    await post('subnets', { subnet: { network_id: net.id, cidr: '10.5.0.0/24', ip_version: 4 } });
    ports = [];
    for (const iface of ['tapf1', 'tapf2']) {
      ports.push((await post('ports', { port: { network_id: net.id, device_owner: 'compute:nova', 'binding:host_id': 'fuzzed', 'binding:profile': { interface_name: iface } } })).port);
    }
    await agent.until((m) => m.ports.length === 2, 'the ports bound');
  });
  after(async () => {
    await agent?.stop();
    proxy?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (k: number) => {
    const [a, b] = ports as [Json, Json];
    await agent.inject(a.id, buildEthernet(udp({ srcMac: a.mac_address, dstMac: b.mac_address, src: a.fixed_ips[0].ip_address, dst: b.fixed_ips[0].ip_address }, 20000 + k, 53)));
  };

  it('stays alive and forwarding through thousands of random messages, and counts them', async () => {
    const start = await agent.metrics();
    await send(0);
    await agent.until((m) => m.datapath.txFrames === start.datapath.txFrames + 1, 'forwarding before the fuzz');
    const ids = [...ports.map((p) => p.id as string), net.id as string, agent.id];
    const types = [T.Port, T.Network, T.Router, T.Chain, T.Rule, T.Host, T.TunnelZone, T.Dhcp, T.PortGroup, T.IpAddrGroup, T.Route, NT.Port, 'Junk'];
    const keys = ['active', 'alive', 'learned_routes/x', 'learned_routes/', 'arp_table/1', 'arp_table/10.5.0.9', 'arp_table/999', 'mac_table/0/zz_1', 'mac_table/0/', 'bgp'];
    const junk = fc.oneof(fc.anything({ maxDepth: 3 }), fc.string(), fc.constant(null), fc.json().map((j) => JSON.parse(j) as unknown));
    const message = fc.oneof(
      fc.record({ op: fc.constant('update'), type: fc.constantFrom(...types), id: fc.constantFrom(...ids), version: fc.integer(), value: junk }),
      fc.record({ op: fc.constant('delete'), type: fc.constantFrom(...types), id: fc.uuid() }),
      fc.record({ op: fc.constant('state'), type: fc.constantFrom(...types), id: fc.constantFrom(...ids), key: fc.constantFrom(...keys), value: fc.oneof(fc.string(), fc.constant(null), fc.json()) }),
      fc.record({ op: fc.oneof(fc.constantFrom('ack', 'error', 'watch', ''), fc.string()), req: junk, message: junk }),
    ).map((m) => JSON.stringify(m));
    const text = fc.oneof({ weight: 9, arbitrary: message }, { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constant('{'), fc.constant('null'), fc.constant('[]'), fc.constant('"x"')) });
    const samples = fc.sample(text, { numRuns: 3000, seed: 42 });
    for (let i = 0; i < samples.length; i++) {
      proxy.inject(samples[i]!);
      if (i % 300 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const after = await agent.until((m) => m.topology.stream.messages >= start.topology.stream.messages + samples.length, 'the fuzz delivered', 20_000);
    assert.equal(agent.proc.exitCode, null, 'still running');
    const refused = after.topology.badValues + after.topology.handlerErrors + after.topology.stream.malformed;
    assert.ok(refused > 100, `refused only ${refused}: ${JSON.stringify(after.topology)}`);
    for (let k = 1; k <= 5; k++) await send(k);
    await agent.until((m) => m.datapath.txFrames === start.datapath.txFrames + 6, 'forwarding after the fuzz');
  });
});
