import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HostInterface } from '../model/types.ts';

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

/** The host's network interfaces as MidoNet reports them (name, MAC, MTU, addresses, type). */
export function scanInterfaces(): HostInterface[] {
  const addrs = networkInterfaces();
  return readdirSync('/sys/class/net').sort().map((name) => {
    const base = `/sys/class/net/${name}`;
    const virtual = read(`${base}/device/uevent`) === null;
    const tun = read(`${base}/tun_flags`) !== null;
    const operstate = read(`${base}/operstate`);
    return {
      name,
      mac: read(`${base}/address`),
      mtu: Number(read(`${base}/mtu`) ?? 0),
      type: name === 'lo' ? 'Virtual' : tun ? 'Virtual' : virtual ? 'Virtual' : 'Physical',
      endpoint: name === 'lo' ? 'LOCALHOST' : tun ? 'TUNTAP' : virtual ? 'VM' : 'PHYSICAL',
      portType: null,
      addresses: (addrs[name] ?? []).map((a) => a.address),
      // MidoNet's status bits: 1 = up, 2 = carrier.
      status: (operstate === 'up' || operstate === 'unknown' ? 1 : 0) | (read(`${base}/carrier`) === '1' ? 2 : 0),
    };
  });
}
