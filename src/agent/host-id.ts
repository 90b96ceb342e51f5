import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isUuid } from '../model/net.ts';

export const DEFAULT_HOST_ID_FILE = '/etc/midonet_host_id.properties';

/** The host's id from `host_uuid=` in the properties file; made and saved on first start. */
export function loadHostId(path: string): string {
  try {
    const m = /^\s*host_uuid\s*=\s*(\S+)\s*$/m.exec(readFileSync(path, 'utf8'));
    if (m && isUuid(m[1]!)) return m[1]!.toLowerCase();
    if (m) throw new Error(`${path}: host_uuid ${m[1]} is not a UUID`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = randomUUID();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `# MidoNet host id, made by midolman on first start\nhost_uuid=${id}\n`);
  return id;
}
