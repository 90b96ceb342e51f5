import { existsSync } from 'node:fs';
import { iniSection } from './credentials.ts';

/** Where MidoNet's nodes find their NSDB: the cluster's file, then the agent's. */
export const CLUSTER_CONF = '/etc/midonet/midonet.conf';
export const AGENT_CONF = '/etc/midolman/midolman.conf';

export interface Bootstrap {
  /** ZooKeeper's host:port list, or null when no file names one. */
  hosts: string | null;
  rootKey: string;
  sessionTimeoutMs: number | null;
}

const unquote = (v: string) => v.trim().replace(/^"|"$/g, '');

/**
 * The `[zookeeper]` section of MidoNet's configuration files (`zookeeper_hosts`, `root_key`,
 * `session_timeout` in ms), the first file that has one winning; MIDO_ZOOKEEPER_HOSTS and
 * MIDO_ZOOKEEPER_ROOT_KEY over both, as MidoNet's scripts allow.
 */
export function readBootstrap(files: string[]): Bootstrap {
  let zk: Record<string, string> = {};
  for (const f of files) {
    if (!existsSync(f)) continue;
    const section = iniSection(f, 'zookeeper');
    if (section.zookeeper_hosts) {
      zk = section;
      break;
    }
  }
  const timeout = Number(zk.session_timeout);
  return {
    hosts: process.env.MIDO_ZOOKEEPER_HOSTS ?? (zk.zookeeper_hosts ? unquote(zk.zookeeper_hosts) : null),
    rootKey: process.env.MIDO_ZOOKEEPER_ROOT_KEY ?? (zk.root_key ? unquote(zk.root_key) : '/midonet'),
    sessionTimeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : null,
  };
}
