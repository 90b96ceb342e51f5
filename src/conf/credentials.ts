import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** How a client proves who it is to the MidoNet API: a user and password to log in with, or a token. */
export type Credentials = { username: string; password: string; project?: string } | { token: string };

/** `key = value` lines of a section of an INI file (`~/.midonetrc`'s [cli]); {} when there is none. */
export function iniSection(path: string, section: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  let current = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    const s = /^\[(.+)\]$/.exec(line);
    if (s) current = s[1]!;
    else if (current === section) {
      const kv = /^([\w.]+)\s*[=:]\s*(.*)$/.exec(line);
      if (kv) out[kv[1]!] = kv[2]!;
    }
  }
  return out;
}

/** ~/.midonetrc [cli] settings, as midonet-cli reads them. */
export const midonetrc = (): Record<string, string> => iniSection(join(homedir(), '.midonetrc'), 'cli');

/**
 * A credentials file (an agent's `/etc/midolman/credentials`, a token file): `username=`,
 * `password=`, `project=` or `token=` lines, `#` comments; a file holding only a token is a token.
 */
export function readCredentialsFile(path: string): Credentials {
  const text = readFileSync(path, 'utf8');
  const kv: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
    if (m) kv[m[1]!] = m[2]!;
  }
  if (kv.token) return { token: kv.token };
  if (kv.username !== undefined && kv.password !== undefined) return { username: kv.username, password: kv.password, ...(kv.project ? { project: kv.project } : {}) };
  const bare = text.trim();
  if (bare && !bare.includes('\n') && !bare.includes('=')) return { token: bare };
  throw new Error(`${path}: expected username= and password= lines, or token=`);
}

/**
 * The credentials a command-line tool uses: the ones given, else MIDO_TOKEN_FILE, MIDO_USER and
 * MIDO_PASSWORD, else ~/.midonetrc [cli]; null for none (a cluster without authentication).
 */
export function toolCredentials(user?: string, password?: string): Credentials | null {
  const rc = midonetrc();
  if (user) return { username: user, password: password ?? '' };
  if (process.env.MIDO_TOKEN_FILE) return readCredentialsFile(process.env.MIDO_TOKEN_FILE);
  const u = process.env.MIDO_USER ?? rc.username;
  const p = process.env.MIDO_PASSWORD ?? rc.password;
  return u && p !== undefined ? { username: u, password: p, ...(rc.project_id ? { project: rc.project_id } : {}) } : null;
}

export class LoginFailed extends Error {}

/** The API token of a client: given, or got once by logging in and again when the API forgets it. */
export class ApiToken {
  private token: string | null;

  constructor(
    private readonly base: string,
    private readonly creds: Credentials | null,
  ) {
    this.token = creds && 'token' in creds ? creds.token : null;
  }

  /** The headers that carry the token ({} without credentials). */
  async headers(): Promise<Record<string, string>> {
    if (!this.creds) return {};
    if (!this.token && 'username' in this.creds) this.token = await login(this.base, this.creds);
    return this.token ? { 'x-auth-token': this.token } : {};
  }

  /** The API refused the token (expired, revoked): log in again next time. */
  forget(): void {
    if (this.creds && 'username' in this.creds) this.token = null;
  }
}

/** MidoNet's login: Basic credentials to /login, the token back in the session cookie. */
export async function login(base: string, c: { username: string; password: string; project?: string }): Promise<string> {
  const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
  if (c.project) headers['x-auth-project'] = c.project;
  const r = await fetch(`${base}/login`, { method: 'POST', headers });
  if (r.status === 429) throw new LoginFailed(`login to ${base} refused for now: too many failures (retry after ${r.headers.get('retry-after') ?? '?'} s)`);
  if (r.status !== 200) throw new LoginFailed(`login to ${base} failed (${r.status})`);
  const token = /sessionId=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1];
  if (!token) throw new LoginFailed(`login to ${base} gave no token`);
  return token;
}
