import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's top folder (bin/, node_modules/), from the sources or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'midonet-ts') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the midonet-ts package folder');
    dir = up;
  }
}

export const binPath = (name: string): string => join(packageRoot(), 'bin', `${name}.js`);
