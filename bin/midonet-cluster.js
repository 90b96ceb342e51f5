#!/usr/bin/env node
import { load } from './load.js';

const { main } = await load('cluster/main');
main(process.argv.slice(2)).catch((err) => {
  console.error(`midonet-cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
