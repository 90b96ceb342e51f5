import { mkdirSync } from 'node:fs';
import { topologyBindings } from '../model/bindings.ts';
import { topologyIndexes } from '../model/indexes.ts';
import { LmdbBackend } from './embedded/lmdb-backend.ts';
import { Store } from './store.ts';
import { ZkBackend } from './zookeeper/zk-backend.ts';

export type NsdbOptions =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'zookeeper'; hosts: string; rootKey?: string; sessionTimeoutMs?: number };

/** Opens the topology store on the configured backend. */
export async function openStore(opts: NsdbOptions): Promise<Store> {
  let backend;
  if (opts.kind === 'embedded') {
    mkdirSync(opts.dataDir, { recursive: true });
    backend = new LmdbBackend(`${opts.dataDir}/nsdb.lmdb`);
  } else {
    backend = await ZkBackend.connect(opts);
  }
  const store = new Store(backend, { bindings: topologyBindings, indexes: topologyIndexes });
  await store.buildIndexes();
  return store;
}
