import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** One VM of the sandbox: a namespace whose eth0 is a veth into its host. */
export interface SandboxVm {
  name: string;
  host: string;
  ns: string;
  ip: string | null;
  floatingIp: string | null;
  portId: string | null;
}

/**
 * What a sandbox made, written before each thing is made (so `down` finds it after a crash or a
 * kill -9 of `up` itself) and completed as `up` goes.
 */
export interface SandboxState {
  tag: string;
  /** The underlay's /24, as "10.250.7". */
  underlay: string;
  createdDir: boolean;
  api: string | null;
  console: string | null;
  neutron: string | null;
  clusterPid: number | null;
  agents: { name: string; ns: string; id: string; pid: number | null }[];
  namespaces: string[];
  links: string[];
  vms: SandboxVm[];
  internet: { ns: string; address: string } | null;
  ready: boolean;
}

export const defaultDir = (): string => process.env.MIDONET_SANDBOX_DIR ?? join(homedir(), '.midonet-sandbox');

const file = (dir: string) => join(dir, 'sandbox.json');

export function loadState(dir: string): SandboxState | null {
  if (!existsSync(file(dir))) return null;
  return JSON.parse(readFileSync(file(dir), 'utf8')) as SandboxState;
}

export function saveState(dir: string, s: SandboxState): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file(dir)}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${file(dir)}.tmp`, file(dir));
}
