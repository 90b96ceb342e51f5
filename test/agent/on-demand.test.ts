/**
 * Agents follow what they serve: the devices their ports reach, loaded as packets reach them and
 * dropped when unused; a change elsewhere in the cloud costs them nothing. Real cluster, real agents
 * (without a datapath: frames are given through the binding socket).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ipToInt } from '../../src/model/net.ts';
import { BROADCAST_MAC, macFromString } from '../../src/packets/bytes.ts';
import { buildEthernet } from '../../src/packets/ethernet.ts';
import { ETH_ARP } from '../../src/packets/types.ts';
import { ClusterProcess } from '../helpers/cluster.ts';
import { udp } from '../helpers/topology.ts';
import { VirtualAgent } from '../helpers/virtual-agent.ts';

type Json = Record<string, any>;

describe('agents load topology on demand', { timeout: 120_000 }, () => {
  let dir: string;
  let cluster: ClusterProcess;
  const agents: VirtualAgent[] = [];
  let neutron: string;
  const post = async (path: string, body: Json, tenant: string): Promise<Json> => {
    const r = await fetch(`${neutron}/v2.0/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-project-id': tenant }, body: JSON.stringify(body) });
    const text = await r.text();
    if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${text}`);
    return JSON.parse(text) as Json;
  };
  /** A tenant's network, subnet and router, and VM ports bound to an agent's host. */
  async function tenant(name: string, cidr: string, bound: [VirtualAgent, string][]): Promise<{ net: Json; ports: Json[]; router: Json; group: string }> {
    const net = (await post('networks', { network: { name, tenant_id: name } }, name)).network;
    const sub = (await post('subnets', { subnet: { network_id: net.id, cidr, ip_version: 4, tenant_id: name } }, name)).subnet;
    const router = (await post('routers', { router: { name, tenant_id: name } }, name)).router;
    const r = await fetch(`${neutron}/v2.0/routers/${router.id}/add_router_interface`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subnet_id: sub.id }) });
    assert.equal(r.status, 200);
    const ports: Json[] = [];
    for (const [agent, iface] of bound) {
      ports.push((await post('ports', { port: { network_id: net.id, tenant_id: name, device_owner: 'compute:nova', 'binding:host_id': agent.name, 'binding:profile': { interface_name: iface } } }, name)).port);
    }
    return { net, ports, router, group: ports[0]?.security_groups[0] };
  }
  const from = (p: Json, to: Json) => ({ srcMac: p.mac_address, dstMac: to.mac_address, src: p.fixed_ips[0].ip_address, dst: to.fixed_ips[0].ip_address });
  const arpFor = (p: Json, ip: string) => buildEthernet({
    dst: BROADCAST_MAC, src: macFromString(p.mac_address), vlans: [], etherType: ETH_ARP,
    payload: { kind: 'arp', op: 1, sha: macFromString(p.mac_address), spa: ipToInt(p.fixed_ips[0].ip_address), tha: 0, tpa: ipToInt(ip) },
  });

  let a: Awaited<ReturnType<typeof tenant>>;
  let x: VirtualAgent;
  let y: VirtualAgent;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'on-demand-'));
    cluster = await ClusterProcess.start(['--data-dir', join(dir, 'nsdb')]);
    neutron = cluster.neutronUrl;
    x = await VirtualAgent.start(cluster.url, dir, 'agent-x');
    y = await VirtualAgent.start(cluster.url, dir, 'agent-y', ['--device-idle', '1']);
    agents.push(x, y);
    a = await tenant('tenant-a', '10.1.0.0/24', [[x, 'tapa1'], [x, 'tapa2'], [y, 'tapa3']]);
    await x.until((m) => m.ports.length === 2, 'the ports of tenant A bound on agent X');
    await y.until((m) => m.ports.length === 1, 'the port of tenant A bound on agent Y');
  });
  after(async () => {
    for (const g of agents) await g.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parks a packet that reaches devices the agent has not loaded, and forwards it once they arrive', async () => {
    const before = await x.metrics();
    assert.equal(before.topology.devicesCompiled, 0, `nothing compiled before traffic: ${JSON.stringify(before)}`);
    await x.inject(a.ports[0]!.id, buildEthernet(udp(from(a.ports[0]!, a.ports[1]!), 5000, 6000)));
    const m = await x.until((v) => v.datapath.txFrames === before.datapath.txFrames + 1, 'the frame delivered to the other VM');
    assert.ok(m.workflow.waitedForTopology > 0, 'the packet waited for the topology');
    assert.equal(m.workflow.dropped, before.workflow.dropped);
    assert.equal(m.workflow.topologyTimeouts, 0);
    assert.ok(m.topology.devicesCompiled > 0);
  });

  it('sends an agent nothing for a change in a tenant it does not serve', async () => {
    const b = await tenant('tenant-b', '10.2.0.0/24', [[y, 'tapb1']]);
    await y.until((m) => m.ports.length === 2, 'the port of tenant B bound on agent Y');
    const quiet = (await x.metrics()).topology.messages;
    // Tenant B: a VM port, a security group rule, a port update.
    const port = (await post('ports', { port: { network_id: b.net.id, tenant_id: 'tenant-b', device_owner: 'compute:nova' } }, 'tenant-b')).port;
    await post('security-group-rules', { security_group_rule: { security_group_id: b.group, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, tenant_id: 'tenant-b' } }, 'tenant-b');
    const put = await fetch(`${neutron}/v2.0/ports/${port.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ port: { name: 'renamed' } }) });
    assert.equal(put.status, 200);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await x.metrics()).topology.messages, quiet, 'no message to agent X');
    // The same change in tenant A reaches it (so the count above could have moved).
    await post('security-group-rules', { security_group_rule: { security_group_id: a.group, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, tenant_id: 'tenant-a' } }, 'tenant-a');
    await x.until((m) => m.topology.messages > quiet, 'tenant A rule change reaching agent X');
    const after = await x.metrics();
    assert.ok(after.flows.invalidated > 0, 'the rule change invalidated the flow through the group');
  });

  it('drops devices unused for its idle time and loads them again when a packet needs them', async () => {
    const vm = a.ports[2]!;
    const start = await y.metrics();
    await y.inject(vm.id, arpFor(vm, '10.1.0.1'));
    const answered = await y.until((m) => m.datapath.txFrames === start.datapath.txFrames + 1, 'the ARP reply for the router');
    const loaded = answered.topology.devicesCompiled;
    assert.ok(loaded > 0);
    // No flow holds what answered ARP: after the idle time the devices go.
    const idle = await y.until((m) => m.topology.dropped > start.topology.dropped && m.topology.devicesCompiled < loaded, 'unused devices dropped', 15_000);
    await y.inject(vm.id, arpFor(vm, '10.1.0.1'));
    const again = await y.until((m) => m.datapath.txFrames === start.datapath.txFrames + 2, 'the ARP reply after loading again');
    assert.ok(again.topology.loads > idle.topology.loads, 'loaded again on demand');
  });
});
