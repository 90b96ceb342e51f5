#!/usr/bin/env node
import { load } from './load.js';

const { main } = await load('agent/midolman');
main(process.argv.slice(2)).catch((err) => {
  console.error(`midolman: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
