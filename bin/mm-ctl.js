#!/usr/bin/env node
import { load } from './load.js';

const { main } = await load('cli/mm-ctl');
process.exitCode = await main(process.argv.slice(2));
