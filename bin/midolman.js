#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: nothing to build after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/agent/midolman.ts');
main(process.argv.slice(2)).catch((err) => {
  console.error(`midolman: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
