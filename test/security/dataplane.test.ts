/**
 * Findings 8 and 9 on real network stacks: tunnels only from tunnel-zone members, and SNAT ports
 * that never collide across hosts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ipToInt } from '../../src/model/net.ts';
import { buildEthernet } from '../../src/packets/ethernet.ts';
import { FLOW_STATE_VNI, type StateEntry } from '../../src/agent/flow-state.ts';
import { Lab, metrics, nsExec, plug, bind, tunnelZone, type LabHost, type LabVm } from '../helpers/lab.ts';
import { udp } from '../helpers/topology.ts';

/** Sends one VXLAN datagram (VNI, inner frame) from a namespace to a host's tunnel port. */
const sendVxlan = (ns: string, to: string, vni: number, inner: Uint8Array) => nsExec(ns, ['node', '-e', `
  const hdr = Buffer.alloc(8); hdr[0] = 0x08; hdr.writeUInt32BE((${vni} << 8) >>> 0, 4);
  const s = require('dgram').createSocket('udp4');
  s.send(Buffer.concat([hdr, Buffer.from('${Buffer.from(inner).toString('hex')}', 'hex')]), 6677, '${to}', () => s.close());`]);

/** Listens for UDP on a port in a VM for `ms`; prints each datagram's text. */
const listen = (vm: LabVm, port: number, ms: number) => nsExec(vm.ns, ['node', '-e', `
  const s = require('dgram').createSocket('udp4');
  s.on('message', (m, r) => console.log(m.toString() + ' from ' + r.address + ':' + r.port));
  s.bind(${port}); setTimeout(() => s.close(), ${ms});`], ms + 10_000);

describe('the data plane against strangers and collisions', { timeout: 300_000 }, () => {
  let lab: Lab;
  let h1: LabHost;
  let h2: LabHost;
  let vmA: LabVm;
  let vmB: LabVm;
  let server: LabVm;
  let portA: string;
  before(async () => {
    lab = await Lab.create();
    h1 = await lab.addHost('host1');
    h2 = await lab.addHost('host2');
    await tunnelZone(lab);
    const net = await lab.create('/bridges', { name: 'net' });
    const router = await lab.create('/routers', { name: 'edge' });
    const rp = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '10.31.0.1', networkLength: 24 });
    const uplink = await lab.create(`/routers/${router}/ports`, { type: 'Router', portAddress: '172.31.0.1', networkLength: 24 });
    const bp = await lab.create(`/bridges/${net}/ports`, { type: 'Bridge' });
    assert.equal((await lab.call('POST', `/ports/${rp}/link`, { peerId: bp })).status, 201);
    const route = (dst: string, len: number, port: string) => ({ type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: dst, dstNetworkLength: len, nextHopPort: port, weight: 100 });
    await lab.create(`/routers/${router}/routes`, route('10.31.0.0', 24, rp));
    await lab.create(`/routers/${router}/routes`, route('172.31.0.0', 24, uplink));
    // Every VM leaves as the uplink's address, ports leased from one range by whichever host it is on.
    const pre = await lab.create('/chains', { name: 'pre' });
    const post = await lab.create('/chains', { name: 'post' });
    await lab.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', outPorts: [uplink], nwSrcAddress: '10.31.0.0', nwSrcLength: 24, natTargets: [{ addressFrom: '172.31.0.1', addressTo: '172.31.0.1', portFrom: 30000, portTo: 30999 }], position: 1 });
    await lab.create(`/chains/${pre}/rules`, { type: 'rev_snat', flowAction: 'accept', nwDstAddress: '172.31.0.1', nwDstLength: 32, position: 1 });
    const r = (await lab.call('GET', `/routers/${router}`)).json;
    await lab.call('PUT', `/routers/${router}`, { ...r, inboundFilterId: pre, outboundFilterId: post });
    vmA = await lab.addVm(h1, { mac: '02:00:0a:1f:00:0a', cidr: '10.31.0.10/24', gateway: '10.31.0.1' });
    vmB = await lab.addVm(h2, { mac: '02:00:0a:1f:00:0b', cidr: '10.31.0.11/24', gateway: '10.31.0.1' });
    server = await lab.addVm(h1, { mac: '02:00:ac:1f:00:fe', cidr: '172.31.0.254/24', gateway: '172.31.0.1' });
    portA = await plug(lab, net, h1, vmA);
    await plug(lab, net, h2, vmB);
    await bind(lab, uplink, h1, server);
  });
  after(async () => lab?.destroy());

  it('delivers nothing a stranger tunnels to a VM with its real tunnel key, nor the flow state it forges, and counts it', async () => {
    const key = (await lab.call('GET', `/ports/${portA}`)).json.tunnelKey as number;
    const frame = buildEthernet(udp({ srcMac: '02:00:0a:1f:00:0b', dstMac: vmA.mac, src: '10.31.0.11', dst: '10.31.0.10' }, 4444, 9999, new TextEncoder().encode('forged')));
    const stranger = await lab.addStranger();
    const before = await metrics(lab, h1);
    const heard = listen(vmA, 9999, 3000);
    await new Promise((r) => setTimeout(r, 500));
    await sendVxlan(stranger.ns, h1.underlayIp, key, frame);
    const forged: StateEntry[] = [{ kind: 'rsnat', device: portA, tuple: `17|${ipToInt('6.6.6.6')}|1|${ipToInt('10.31.0.10')}|9999`, value: { ip: ipToInt('10.31.0.10'), port: 9999 }, ttlMs: 60_000 }];
    const state = new TextEncoder().encode(JSON.stringify(forged));
    await sendVxlan(stranger.ns, h1.underlayIp, FLOW_STATE_VNI, state);
    // A member host sending the very same datagram is heard: the test can tell.
    await sendVxlan(h2.ns, h1.underlayIp, key, buildEthernet(udp({ srcMac: '02:00:0a:1f:00:0b', dstMac: vmA.mac, src: '10.31.0.11', dst: '10.31.0.10' }, 4444, 9999, new TextEncoder().encode('member'))));
    const out = (await heard).stdout;
    assert.doesNotMatch(out, /forged/);
    assert.match(out, /member/);
    const after = await metrics(lab, h1);
    assert.equal(after.workflow.tunnelForeign - before.workflow.tunnelForeign, 2);
    assert.equal(after.workflow.stateReceived, before.workflow.stateReceived);
  });

  it('gives two VMs on two hosts with the same source port distinct SNAT ports, and each only its own replies', async () => {
    const echo = nsExec(server.ns, ['node', '-e', `
      const s = require('dgram').createSocket('udp4');
      s.on('message', (m, r) => s.send(m.toString() + ' as ' + r.address + ':' + r.port, r.port, r.address));
      s.bind(7777); setTimeout(() => s.close(), 8000);`], 20_000);
    await new Promise((r) => setTimeout(r, 500));
    const ask = (vm: LabVm, payload: string) => nsExec(vm.ns, ['node', '-e', `
      const s = require('dgram').createSocket('udp4'); const got = [];
      s.on('message', (m) => got.push(m.toString()));
      s.bind(5555, () => { const t = setInterval(() => s.send('${payload}', 7777, '172.31.0.254'), 200);
        setTimeout(() => { clearInterval(t); console.log(JSON.stringify(got)); s.close(); }, 3000); });`], 20_000);
    const [a, b] = await Promise.all([ask(vmA, 'from-A'), ask(vmB, 'from-B')]);
    await echo;
    const gotA = JSON.parse(a.stdout) as string[];
    const gotB = JSON.parse(b.stdout) as string[];
    assert.ok(gotA.length > 0 && gotB.length > 0, `replies: A ${a.stdout} ${a.stderr} B ${b.stdout} ${b.stderr}`);
    assert.ok(gotA.every((m) => m.startsWith('from-A ')), `A got ${JSON.stringify(gotA)}`);
    assert.ok(gotB.every((m) => m.startsWith('from-B ')), `B got ${JSON.stringify(gotB)}`);
    const portOf = (m: string) => m.split(':').pop();
    assert.equal(new Set(gotA.map(portOf)).size, 1);
    assert.notEqual(portOf(gotA[0]!), portOf(gotB[0]!), 'distinct SNAT ports');
    assert.ok(gotA.concat(gotB).every((m) => / as 172\.31\.0\.1:3\d{4}$/.test(m)), 'from the SNAT range');
  });
});
