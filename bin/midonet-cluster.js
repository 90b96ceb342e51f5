#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: nothing to build after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cluster/main.ts');
main(process.argv.slice(2)).catch((err) => {
  console.error(`midonet-cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
