import { mkdirSync } from 'node:fs';
import { topologyBindings } from '../model/bindings.ts';
import { LmdbBackend } from './embedded/lmdb-backend.ts';
import { Store } from './store.ts';
import { ZkBackend } from './zookeeper/zk-backend.ts';

export type NsdbOptions =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'zookeeper'; hosts: string; rootKey?: string; sessionTimeoutMs?: number };

/** Opens the topology store on the configured backend. */
export async function openStore(opts: NsdbOptions): Promise<Store> {
  if (opts.kind === 'embedded') {
    mkdirSync(opts.dataDir, { recursive: true });
    return new Store(new LmdbBackend(`${opts.dataDir}/nsdb.lmdb`), { bindings: topologyBindings });
  }
  const backend = await ZkBackend.connect(opts);
  return new Store(backend, { bindings: topologyBindings });
}
