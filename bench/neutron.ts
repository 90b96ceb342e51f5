/**
 * Neutron translation cost, side by side in one run on one `midonet-cluster` (embedded NSDB):
 * (a) bridge ports made through the MidoNet API (the baseline: one port, no translation) against
 * (b) VM ports made through the Neutron API (port, IPAM, MAC/ARP entries, DHCP host, security
 * chains and address group, in one transaction), and how (b) changes as the network fills up.
 *
 *   node --import tsx bench/neutron.ts [--ports 600] [--concurrency 8]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusterProcess } from '../test/helpers/cluster.ts';

const { values } = parseArgs({ options: { ports: { type: 'string', default: '600' }, concurrency: { type: 'string', default: '8' } } });
const PORTS = Number(values.ports);
const CONCURRENCY = Number(values.concurrency);
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST ${url}: ${r.status} ${await r.text()}`);
  const text = await r.text();
  return text ? (JSON.parse(text) as Record<string, unknown>) : { location: r.headers.get('location') };
}

/** Runs tasks first..last-1 with `concurrency` in flight; answers tasks per second. */
async function rate(first: number, last: number, task: (i: number) => Promise<void>, concurrency = CONCURRENCY): Promise<number> {
  let next = first;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < last) await task(next++);
  }));
  return ((last - first) * 1000) / (performance.now() - start);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-neutron-'));
const cluster = await ClusterProcess.start(['--data-dir', dir]);
try {
  const neutron = `${cluster.neutronUrl}/v2.0`;
  const bridge = String((await post(`${cluster.url}/bridges`, { name: 'baseline' })).location).split('/').pop();
  // One at a time: concurrent creates on one bridge lose optimistic races (409), as in MidoNet.
  const midonet = await rate(0, PORTS, async () => void (await post(`${cluster.url}/bridges/${bridge}/ports`, { type: 'Bridge' })), 1);
  const net = (await post(`${neutron}/networks`, { network: { name: 'bench' } })).network as { id: string };
  await post(`${neutron}/subnets`, { subnet: { network_id: net.id, cidr: '10.0.0.0/20', ip_version: 4 } });
  const vmPort = (i: number) => post(`${neutron}/ports`, { port: { network_id: net.id, name: `vm${i}`, device_owner: 'compute:nova' } }).then(() => undefined);
  const half = Math.floor(PORTS / 2);
  const early = await rate(0, half, vmPort);
  const late = await rate(half, PORTS, vmPort);
  const both = (early * half + late * (PORTS - half)) / PORTS;
  const line = (metric: string, value: number, extra: Record<string, unknown> = {}) =>
    console.log(JSON.stringify({ bench: 'neutron', metric, value: Math.round(value * 10) / 10, unit: 'ports/s', ...extra }));
  line('midonet_bridge_port_create', midonet, { role: 'baseline' });
  line('neutron_vm_port_create', both, { baseline: Math.round(midonet), ratio: Math.round((both / midonet) * 100) / 100 });
  line('neutron_vm_port_create_first_half', early, { ports: `0-${half}` });
  line('neutron_vm_port_create_second_half', late, { ports: `${half}-${PORTS}`, ratio_to_first_half: Math.round((late / early) * 100) / 100 });
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
