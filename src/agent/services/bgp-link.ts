/**
 * Plumbs a BGP speaker into the datapath: the speaker lives in a network namespace of its own,
 * on an interface with the router port's address and MAC; its frames go straight out of the
 * router port's interface, and what arrives there for it (TCP to or from port 179 at the port's
 * address, and ARP replies to the port) is handed to it. The simulation still sees the ARP
 * replies, so the router learns its peers too.
 */
import { ipToInt } from '../../model/net.ts';
import { readU32 as readIp } from '../../packets/bytes.ts';
import { run, tryRun } from './host-commands.ts';
import type { FrameOut } from './metadata-link.ts';

const BGP = 179;
const linkOf = (portId: string) => `bgp:${portId}`;

export const isSpeakerPort = (dpPort: string) => dpPort.startsWith('bgp:');

interface Plumbed {
  portId: string;
  address: number;
  ns: string;
  hostIf: string;
}

export class BgpLink {
  private readonly byPort = new Map<string, Plumbed>();
  private n = 0;

  constructor(private readonly dp: FrameOut) {}

  /** Makes the speaker's namespace and interface (address/length, MAC) and attaches its peer. */
  async plumb(portId: string, ns: string, cidr: string, mac: string): Promise<void> {
    await this.unplumb(portId);
    const i = this.n++;
    const hostIf = `mnbgp${i}d`;
    const nsIf = `mnbgp${i}`;
    await tryRun('ip', ['netns', 'del', ns]);
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', nsIf, 'type', 'veth', 'peer', 'name', hostIf]);
    await run('ip', ['link', 'set', nsIf, 'netns', ns]);
    await run('ip', ['-n', ns, 'link', 'set', nsIf, 'name', 'uplink0']);
    await run('ip', ['-n', ns, 'link', 'set', 'uplink0', 'address', mac]);
    await tryRun('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
    await run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', 'uplink0']);
    await run('ip', ['-n', ns, 'link', 'set', 'uplink0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['link', 'set', hostIf, 'up']);
    this.dp.addPort(linkOf(portId), hostIf);
    this.byPort.set(portId, { portId, address: ipToInt(cidr.split('/')[0]!), ns, hostIf });
  }

  async unplumb(portId: string): Promise<void> {
    const p = this.byPort.get(portId);
    if (!p) return;
    this.byPort.delete(portId);
    this.dp.removePort(linkOf(portId));
    await tryRun('ip', ['link', 'del', p.hostIf]);
    await tryRun('ip', ['netns', 'del', p.ns]);
  }

  /** A frame from a datapath port: true when it was the speaker's alone and is taken care of. */
  take(dpPort: string, bytes: Uint8Array): boolean {
    if (isSpeakerPort(dpPort)) {
      this.dp.output(dpPort.slice(4), bytes);
      return true;
    }
    const p = this.byPort.get(dpPort);
    if (!p || bytes.length < 42) return false;
    const type = (bytes[12]! << 8) | bytes[13]!;
    if (type === 0x0806) {
      // ARP replies to the port's address: the speaker's kernel asked.
      if (((bytes[20]! << 8) | bytes[21]!) === 2 && readIp(bytes, 38) === p.address) this.dp.output(linkOf(p.portId), bytes.slice());
      return false;
    }
    if (type !== 0x0800 || bytes.length < 38 || bytes[23] !== 6 || readIp(bytes, 30) !== p.address) return false;
    const l4 = 14 + (bytes[14]! & 0x0f) * 4;
    const sport = (bytes[l4]! << 8) | bytes[l4 + 1]!;
    const dport = (bytes[l4 + 2]! << 8) | bytes[l4 + 3]!;
    if (sport !== BGP && dport !== BGP) return false;
    this.dp.output(linkOf(p.portId), bytes);
    return true;
  }
}
