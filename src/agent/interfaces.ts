import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import type { HostInterface } from '../model/types.ts';

const exec = promisify(execFile);

/** One link as `ip -json -details link show` describes it (the parts read here). */
interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  operstate?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
}

/**
 * Where an interface leads, as MidoNet's agent reports it: loopback, a tap or tun device, a GRE
 * tunnel, a device with no link kind (a NIC: what a datapath would use), or anything else
 * (veth, bridge, bond, VLAN, VXLAN...). Clients find hosts by the addresses of DATAPATH and
 * UNKNOWN interfaces (eucanetd does).
 */
export function classify(l: IpLink): Pick<HostInterface, 'type' | 'endpoint'> {
  const kind = l.linkinfo?.info_kind;
  if (l.link_type === 'loopback') return { type: 'Virtual', endpoint: 'LOCALHOST' };
  if (kind === 'tun') return { type: 'Virtual', endpoint: 'TUNTAP' };
  if (kind === 'gre' || kind === 'gretap' || kind === 'ip6gre' || kind === 'ip6gretap') return { type: 'Tunnel', endpoint: 'GRE' };
  if (!kind) return { type: 'Physical', endpoint: 'DATAPATH' };
  return { type: 'Virtual', endpoint: 'UNKNOWN' };
}

/** The host's network interfaces as MidoNet reports them, read without blocking the agent's event loop. */
export async function scanInterfaces(): Promise<HostInterface[]> {
  const addrs = networkInterfaces();
  const links = JSON.parse((await exec('ip', ['-json', '-details', 'link', 'show'])).stdout || '[]') as IpLink[];
  return Promise.all(links.sort((a, b) => a.ifname.localeCompare(b.ifname)).map(async (l) => {
    const carrier = await readFile(`/sys/class/net/${l.ifname}/carrier`, 'utf8').catch(() => '0');
    const up = l.flags?.includes('UP') === true;
    return {
      name: l.ifname,
      mac: l.address ?? null,
      mtu: l.mtu ?? 0,
      ...classify(l),
      portType: null,
      addresses: (addrs[l.ifname] ?? []).map((a) => a.address),
      // MidoNet's status bits: 1 = up, 2 = carrier.
      status: (up ? 1 : 0) | (carrier.trim() === '1' ? 2 : 0),
    } satisfies HostInterface;
  }));
}
