import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The vendored, unmodified midonet-client 12.12.2 (CloudStack's), beside the project in ../shared/vendor, built here with Debian's jars. */
const CLIENT = fileURLToPath(new URL('../../../shared/vendor/midonet-client-12.12.2/src/main/java', import.meta.url));
const JARS = ['jersey1-client', 'jersey1-core', 'jackson-core-asl', 'jackson-mapper-asl', 'jackson-jaxrs', 'jackson-xc', 'jsr311-api', 'guava', 'jsr305', 'jaxb-api', 'javax.activation']
  .map((j) => `/usr/share/java/${j}.jar`);

async function javaFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await javaFiles(p)));
    else if (e.name.endsWith('.java')) out.push(p);
  }
  return out;
}

/**
 * Compiles the client and `drivers` against it with javac; returns the classpath to run them.
 * RouterPredicates.java is left out: nothing uses it, and it does not compile against Debian's
 * guava 31.
 */
export async function buildJavaClient(drivers: string[]): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'midonet-client-'));
  const sources = (await javaFiles(CLIENT)).filter((f) => !f.endsWith('RouterPredicates.java'));
  await exec('javac', ['-nowarn', '-d', out, '-cp', JARS.join(':'), ...sources, ...drivers], { maxBuffer: 16 * 1024 * 1024 });
  return [out, ...JARS].join(':');
}

/** Runs a compiled class; its stdout, or the error with what it printed. */
export async function runJava(classpath: string, main: string, args: string[]): Promise<string> {
  try {
    return (await exec('java', ['-cp', classpath, main, ...args], { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${main} ${args.join(' ')}: ${e.message}\n${(e.stderr ?? '').split('\n').filter((l) => /Exception|at |Caused/.test(l)).slice(0, 12).join('\n')}`);
  }
}
