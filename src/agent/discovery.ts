import type { Bootstrap } from '../conf/bootstrap.ts';
import { clusterEndpointKey } from '../model/state-keys.ts';
import { ZkBackend } from '../nsdb/zookeeper/zk-backend.ts';

/**
 * The API URLs of the cluster nodes registered in ZooKeeper, for an agent configured as MidoNet's
 * are (midolman.conf `[zookeeper] zookeeper_hosts`, no cluster URL). Reads only; the session closes.
 */
export async function discoverClusters(boot: Bootstrap & { hosts: string }): Promise<string[]> {
  const zk = await ZkBackend.connect({ hosts: boot.hosts, rootKey: boot.rootKey, sessionTimeoutMs: 10_000 });
  try {
    return (await zk.stateDir(clusterEndpointKey())).map(([, url]) => url).filter((u) => /^https?:\/\//.test(u)).sort();
  } finally {
    await zk.close();
  }
}
