import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../conf/paths.ts';
import type { AuthService } from './api/auth.ts';
import { login, tokenOf } from './api/server.ts';

/** Where `npm run build` leaves the console's bundle. */
export const CONSOLE_BUNDLE = join('dist', 'console', 'app.js');

const FILES: Record<string, [file: string, type: string]> = {
  '/console': ['index.html', 'text/html; charset=utf-8'],
  '/console/style.css': ['style.css', 'text/css; charset=utf-8'],
};

/** The console's script and what it imports, bundled into one file for the browser (cytoscape included). */
export async function bundleConsole(outfile?: string): Promise<string> {
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [join(packageRoot(), 'src', 'console', 'app.ts')],
    bundle: true, format: 'esm', target: 'es2022', minify: true, sourcemap: false, legalComments: 'none',
    write: outfile !== undefined, ...(outfile ? { outfile } : {}),
  });
  return outfile ? readFileSync(outfile, 'utf8') : r.outputFiles![0]!.text;
}

function newestSource(dir: string): number {
  return Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
}

/**
 * The web console at /console: a page and one script, served to anyone (the page asks for a login
 * when the API wants one; every figure it shows comes through the API and the topology stream,
 * with the user's token). The script is the build's bundle, or bundled here once when the sources
 * are newer (a checkout being worked on).
 */
export function serveConsole(app: FastifyInstance, auth: AuthService): void {
  const root = packageRoot();
  const src = join(root, 'src', 'console');
  let script: Promise<string> | null = null;
  const bundle = () => {
    const built = join(root, CONSOLE_BUNDLE);
    script ??= existsSync(built) && statSync(built).mtimeMs >= newestSource(src) ? Promise.resolve(readFileSync(built, 'utf8')) : bundleConsole();
    return script;
  };
  for (const [path, [file, type]] of Object.entries(FILES)) {
    app.get(path, async (_req, reply) => reply.header('content-type', type).header('cache-control', 'no-cache').send(readFileSync(join(src, file))));
  }
  app.post('/console/login', (req, reply) => login(auth, req, reply, true));
  // Whether the session cookie is good, so the page asks for a login without a failed request.
  app.get('/console/session', async (req) => {
    const user = await auth.authorize(tokenOf(req));
    return { user: user?.name ?? null, admin: user?.roles.includes('admin') === true };
  });
  app.get('/console/app.js', async (_req, reply) => reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await bundle()));
}
