import { readdir, readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { HostInterface } from '../model/types.ts';

const read = async (path: string): Promise<string | null> => {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
};

/**
 * The host's network interfaces as MidoNet reports them (name, MAC, MTU, addresses, type), read
 * from /sys without blocking the agent's event loop.
 */
export async function scanInterfaces(): Promise<HostInterface[]> {
  const addrs = networkInterfaces();
  const names = (await readdir('/sys/class/net')).sort();
  return Promise.all(names.map(async (name) => {
    const base = `/sys/class/net/${name}`;
    const [uevent, tunFlags, operstate, address, mtu, carrier] = await Promise.all(
      ['device/uevent', 'tun_flags', 'operstate', 'address', 'mtu', 'carrier'].map((f) => read(`${base}/${f}`)),
    );
    const virtual = uevent === null;
    const tun = tunFlags !== null;
    return {
      name,
      mac: address,
      mtu: Number(mtu ?? 0),
      type: name === 'lo' ? 'Virtual' : tun ? 'Virtual' : virtual ? 'Virtual' : 'Physical',
      endpoint: name === 'lo' ? 'LOCALHOST' : tun ? 'TUNTAP' : virtual ? 'VM' : 'PHYSICAL',
      portType: null,
      addresses: (addrs[name] ?? []).map((a) => a.address),
      // MidoNet's status bits: 1 = up, 2 = carrier.
      status: (operstate === 'up' || operstate === 'unknown' ? 1 : 0) | (carrier === '1' ? 2 : 0),
    } satisfies HostInterface;
  }));
}
