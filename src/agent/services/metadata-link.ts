/**
 * Carries VMs' metadata traffic (to 169.254.169.254) between their ports and a kernel interface
 * on the host where the metadata proxy listens, without simulating it: each local port is given a
 * link-local address of its own (169.254.x.y) that its requests come from, so the proxy knows
 * which port asked, and the kernel's answers to that address go back to that port's VM.
 */
import { readFile } from 'node:fs/promises';
import { METADATA_ADDRESS } from '../../model/neutron.ts';
import { intToIp, ipToInt } from '../../model/net.ts';
import { buildEthernet, parseEthernet } from '../../packets/ethernet.ts';
import { macFromString, readU32 as readIp } from '../../packets/bytes.ts';
import { ARP_REQUEST, ETH_ARP, ETH_IPV4, type Ethernet } from '../../packets/types.ts';
import { arpReply } from '../../simulation/replies.ts';
import { applyRewrites } from '../rewrite.ts';
import { run, tryRun } from './host-commands.ts';

export const METADATA_IP = ipToInt(METADATA_ADDRESS);
/** The datapath port id of the kernel side. */
export const METADATA_PORT = 'metadata';
const KERNEL_IF = 'mn-meta';
const DATAPATH_IF = 'mn-meta-dp';
/** The MAC VMs see for 169.254.169.254 when they ask for it on their link. */
const SERVICE_MAC = macFromString('02:a9:fe:a9:fe:fe');

interface Asker {
  vmIp: number;
  vmMac: number;
  /** Where the VM sent its request (its gateway's MAC, or ours): answers come from there. */
  via: number;
}

export interface FrameOut {
  output(portId: string, frame: Uint8Array): boolean;
  addPort(portId: string, ifname: string): void;
  removePort(portId: string): void;
}

export class MetadataLink {
  private readonly byPort = new Map<string, number>();
  private readonly byAddress = new Map<number, string>();
  private readonly askers = new Map<string, Asker>();
  private next = 0;
  private kernelMac = 0;
  readonly counters = { requests: 0, answers: 0 };

  constructor(private readonly dp: FrameOut) {}

  /** Makes the kernel interface (169.254.169.254/16) and attaches its peer to the datapath. */
  async open(): Promise<void> {
    await this.close();
    await run('ip', ['link', 'add', KERNEL_IF, 'type', 'veth', 'peer', 'name', DATAPATH_IF]);
    for (const ifname of [KERNEL_IF, DATAPATH_IF]) {
      await run('sysctl', ['-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`]);
      await run('ip', ['link', 'set', ifname, 'up']);
    }
    await run('ip', ['addr', 'add', `${intToIp(METADATA_IP)}/16`, 'dev', KERNEL_IF]);
    this.kernelMac = macFromString((await readFile(`/sys/class/net/${KERNEL_IF}/address`, 'utf8')).trim());
    this.dp.addPort(METADATA_PORT, DATAPATH_IF);
  }

  async close(): Promise<void> {
    this.dp.removePort(METADATA_PORT);
    await tryRun('ip', ['link', 'del', KERNEL_IF]);
  }

  /** The address the proxy sees for a port's requests. */
  addressOf(portId: string): number {
    let a = this.byPort.get(portId);
    if (a === undefined) {
      // 169.254.1.1 onwards, skipping .0 and .255 and the service's own address.
      for (;;) {
        const n = this.next++;
        a = ipToInt(`169.254.${1 + Math.floor(n / 254)}.${1 + (n % 254)}`);
        if (a !== METADATA_IP) break;
      }
      this.byPort.set(portId, a);
      this.byAddress.set(a, portId);
    }
    return a;
  }

  portOf(address: string): string | null {
    return this.byAddress.get(ipToInt(address)) ?? null;
  }

  /** The VM's own address, as its requests came. */
  vmAddressOf(portId: string): string | null {
    const a = this.askers.get(portId);
    return a ? intToIp(a.vmIp) : null;
  }

  /** A frame from a VM port: true when it was metadata traffic and is taken care of. */
  fromVm(portId: string, bytes: Uint8Array): boolean {
    const type = bytes.length >= 42 ? (bytes[12]! << 8) | bytes[13]! : 0;
    if (type === ETH_ARP) {
      const f = parsed(bytes);
      if (f?.payload.kind !== 'arp' || f.payload.op !== ARP_REQUEST || f.payload.tpa !== METADATA_IP) return false;
      this.dp.output(portId, buildEthernet(arpReply({ mac: f.payload.sha, ip: f.payload.spa }, { mac: SERVICE_MAC, ip: METADATA_IP })));
      return true;
    }
    if (type !== ETH_IPV4 || bytes.length < 34 || readIp(bytes, 30) !== METADATA_IP) return false;
    const f = parsed(bytes);
    if (f?.payload.kind !== 'ipv4') return true;
    const link = this.addressOf(portId);
    this.askers.set(portId, { vmIp: f.payload.src, vmMac: f.src, via: f.dst });
    this.counters.requests++;
    this.dp.output(METADATA_PORT, buildEthernet(applyRewrites(f, { ipSrc: link, ethSrc: linkMac(link), ethDst: this.kernelMac })));
    return true;
  }

  /** A frame from the kernel interface: answers to ports' link addresses, and ARP for them. */
  fromKernel(bytes: Uint8Array): void {
    const f = parsed(bytes);
    if (!f) return;
    if (f.payload.kind === 'arp') {
      const a = f.payload;
      if (a.op === ARP_REQUEST && this.byAddress.has(a.tpa)) {
        this.dp.output(METADATA_PORT, buildEthernet(arpReply({ mac: a.sha, ip: a.spa }, { mac: linkMac(a.tpa), ip: a.tpa })));
      }
      return;
    }
    if (f.payload.kind !== 'ipv4') return;
    const port = this.byAddress.get(f.payload.dst);
    const asker = port ? this.askers.get(port) : undefined;
    if (!port || !asker) return;
    this.counters.answers++;
    this.dp.output(port, buildEthernet(applyRewrites(f, { ipDst: asker.vmIp, ethSrc: asker.via, ethDst: asker.vmMac })));
  }
}

function parsed(bytes: Uint8Array): Ethernet | null {
  const r = parseEthernet(bytes);
  return r.ok ? r.value : null;
}


/** A locally administered MAC naming a link address (02:a9:fe + its low 24 bits). */
const linkMac = (address: number) => 0x02a9fe000000 + (address & 0xffffff);
