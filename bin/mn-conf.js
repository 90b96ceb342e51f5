#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: nothing to build after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/mn-conf.ts');
process.exitCode = await main(process.argv.slice(2));
