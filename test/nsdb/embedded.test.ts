import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/nsdb/open.ts';
import { storeSuite } from './store-suite.ts';

storeSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nsdb-'));
  const store = await openStore({ kind: 'embedded', dataDir: dir });
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
