/**
 * The same tenant shape through OVN (Debian's ovn-central: ovsdb-server NB/SB and ovn-northd,
 * started with ovn-ctl): a logical router and switch per tenant, 10 VM ports, a gateway port on a
 * shared external switch with SNAT and a default route, one dnat_and_snat floating IP. Each VM port
 * is its own ovn-nbctl transaction, as Neutron's OVN driver makes one per API call.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CTL = '/usr/share/ovn/scripts/ovn-ctl';

export const ovnInstalled = (): boolean => existsSync(CTL) && existsSync('/usr/bin/ovn-nbctl');

const nbctl = (args: string[]) => run('ovn-nbctl', args, { maxBuffer: 64 * 1024 * 1024 });

const mac = (a: number, b: number, c: number) => `0a:00:${[a >> 8, a & 255, b, c].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
const gwIp = (i: number) => `100.64.${(i + 2) >> 8}.${(i + 2) & 255}`;
const fipIp = (i: number) => `100.65.${i >> 8}.${i & 255}`;

export class OvnPeer {
  private extras = 0;

  static async start(): Promise<OvnPeer> {
    await run(CTL, ['stop_northd']).catch(() => undefined);
    await run(CTL, ['start_northd']);
    // A fresh NB: whatever an earlier run left goes.
    await nbctl(['init']);
    const { stdout } = await nbctl(['--bare', '--columns=name', 'list', 'Logical_Router']);
    for (const r of stdout.split('\n').filter(Boolean)) await nbctl(['lr-del', r]);
    const { stdout: ls } = await nbctl(['--bare', '--columns=name', 'list', 'Logical_Switch']);
    for (const s of ls.split('\n').filter(Boolean)) await nbctl(['ls-del', s]);
    await nbctl(['ls-add', 'public', '--', 'lsp-add', 'public', 'ln-public', '--', 'lsp-set-type', 'ln-public', 'localnet',
      '--', 'lsp-set-addresses', 'ln-public', 'unknown', '--', 'lsp-set-options', 'ln-public', 'network_name=physnet']);
    return new OvnPeer();
  }

  /** One tenant; returns each VM port add's time (ms). */
  async tenant(i: number): Promise<number[]> {
    const r = `r-${i}`;
    const s = `net-${i}`;
    await nbctl([
      'ls-add', s, '--', 'lr-add', r,
      '--', 'lrp-add', r, `lrp-${i}`, mac(i, 0, 1), '10.0.0.1/24',
      '--', 'lsp-add', s, `rp-${i}`, '--', 'lsp-set-type', `rp-${i}`, 'router', '--', 'lsp-set-addresses', `rp-${i}`, 'router',
      '--', 'lsp-set-options', `rp-${i}`, `router-port=lrp-${i}`,
      '--', 'lrp-add', r, `gw-${i}`, mac(i, 0, 2), `${gwIp(i)}/16`, '--', 'lrp-set-gateway-chassis', `gw-${i}`, 'chassis-1', '1',
      '--', 'lsp-add', 'public', `pgw-${i}`, '--', 'lsp-set-type', `pgw-${i}`, 'router', '--', 'lsp-set-addresses', `pgw-${i}`, 'router',
      '--', 'lsp-set-options', `pgw-${i}`, `router-port=gw-${i}`,
      '--', 'lr-nat-add', r, 'snat', gwIp(i), '10.0.0.0/24', '--', 'lr-route-add', r, '0.0.0.0/0', '100.64.0.1',
    ]);
    const times: number[] = [];
    for (let p = 0; p < 10; p++) {
      const t0 = performance.now();
      await nbctl(['lsp-add', s, `vm-${i}-${p}`, '--', 'lsp-set-addresses', `vm-${i}-${p}`, `${mac(i, 1, p)} 10.0.0.${p + 2}`]);
      times.push(performance.now() - t0);
    }
    await nbctl(['lr-nat-add', r, 'dnat_and_snat', fipIp(i), '10.0.0.2']);
    return times;
  }

  /** Waits until northd has brought the southbound DB in line with everything written. */
  async sync(): Promise<void> {
    await nbctl(['--wait=sb', 'sync']);
  }

  /** One VM port added and waited for until northd has it in the southbound DB (ms). */
  async portAdd(i: number): Promise<number> {
    const k = this.extras++;
    const t0 = performance.now();
    await nbctl(['--wait=sb', 'lsp-add', `net-${i}`, `extra-${k}`, '--', 'lsp-set-addresses', `extra-${k}`, `${mac(i, 2, k & 255)} 10.0.1.${k & 255}`]);
    return performance.now() - t0;
  }

  /** ovn-trace of VM to VM in a tenant (ms). */
  async trace(i: number): Promise<number> {
    const t0 = performance.now();
    await run('ovn-trace', [`net-${i}`, `inport == "vm-${i}-0" && eth.src == ${mac(i, 1, 0)} && eth.dst == ${mac(i, 1, 1)} && ip4.src == 10.0.0.2 && ip4.dst == 10.0.0.3 && ip.ttl == 64 && udp && udp.dst == 53`], { maxBuffer: 64 * 1024 * 1024 });
    return performance.now() - t0;
  }

  async stop(): Promise<void> {
    await run(CTL, ['stop_northd']).catch(() => undefined);
  }
}
