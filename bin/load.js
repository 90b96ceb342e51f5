// Loads a command's module: the compiled JS in dist/ (`npm run build`, run on install) when it is
// there and newer than every source file, else the TypeScript itself through tsx (a checkout
// being worked on). MIDONET_FROM_SOURCE=1 always takes the TypeScript.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('..', import.meta.url));

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export async function load(module) {
  const stamp = join(top, 'dist', '.built');
  if (!process.env.MIDONET_FROM_SOURCE && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(join(top, 'src'))) {
    return import(new URL(`../dist/src/${module}.js`, import.meta.url).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`../src/${module}.ts`, import.meta.url).href);
}
