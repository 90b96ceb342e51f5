import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command; its stderr's first line is the error when it fails. */
export async function run(cmd: string, args: string[]): Promise<string> {
  try {
    return (await exec(cmd, args, { maxBuffer: 8 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
}

export const ip = (...args: string[]) => run('ip', args);
export const inNs = (ns: string, cmd: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, cmd, ...args]);

/** Names of the network namespaces on the machine. */
export async function namespaces(): Promise<string[]> {
  return (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** A /24 in 10.250.0.0/16 that no interface of the machine has an address in, as "10.250.N". */
export async function freeUnderlay(): Promise<string> {
  const used = await ip('-4', '-o', 'addr', 'show');
  const start = Math.floor(Math.random() * 250);
  for (let i = 0; i < 250; i++) {
    const prefix = `10.250.${(start + i) % 250}`;
    if (!used.includes(` ${prefix}.`)) return prefix;
  }
  throw new Error('no free /24 in 10.250.0.0/16 for the underlay');
}

/**
 * A veth pair: `outside` stays where it is made (the root namespace, or `inNamespace`), `inside`
 * goes into `ns` and is renamed eth0, with the given MAC and up.
 */
export async function vethInto(ns: string, outside: string, inside: string, o: { inNamespace?: string; mac?: string } = {}): Promise<void> {
  const at = o.inNamespace ? ['-n', o.inNamespace] : [];
  await ip(...at, 'link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
  await ip(...at, 'link', 'set', inside, 'netns', ns);
  await ip('-n', ns, 'link', 'set', inside, 'name', 'eth0');
  if (o.mac) await ip('-n', ns, 'link', 'set', 'eth0', 'address', o.mac);
  await ip('-n', ns, 'link', 'set', 'eth0', 'up');
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await ip(...at, 'link', 'set', outside, 'up');
}
