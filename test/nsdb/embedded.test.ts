import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/nsdb/open.ts';
import { storeSuite } from './store-suite.ts';
import { Store } from '../../src/nsdb/store.ts';
import { topologyBindings } from '../../src/model/bindings.ts';
import { topologyIndexes } from '../../src/model/indexes.ts';

storeSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsdb-'));
  const store = await openStore({ kind: 'embedded', dataDir: dir });
  return {
    store,
    // One process holds the embedded NSDB: a second store over the same backend stands for a second writer.
    peer: new Store(store.backend, { bindings: topologyBindings, indexes: topologyIndexes }),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
