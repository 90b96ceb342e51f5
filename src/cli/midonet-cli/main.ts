import { readFileSync, writeFileSync } from 'node:fs';
import { midonetrc } from '../../conf/credentials.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ApiClient, ApiFailure } from './client.ts';
import { CliError, Session, splitWords } from './shell.ts';
import { ROOT_TYPES, TYPES } from './types.ts';

const DOWN = 'The API server failed to respond normally. The network DB is possibly down. Bye.';

/** The interactive shell's history, kept across sessions (MIDO_HISTORY_FILE to move it). */
const HISTORY_SIZE = 1000;
const historyFile = () => process.env.MIDO_HISTORY_FILE ?? join(homedir(), '.midonet-cli_history');

/** Newest first, as readline keeps it. */
function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), 'utf8').split('\n').filter((l) => l.trim() !== '').reverse().slice(0, HISTORY_SIZE);
  } catch {
    return [];
  }
}

function saveHistory(history: string[]): void {
  try {
    writeFileSync(historyFile(), `${[...history].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    // A read-only home keeps the shell working, without history.
  }
}

/** Asks for the password on the terminal without echoing it (-p). */
function askPassword(): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const out = rl as unknown as { _writeToOutput(s: string): void };
    rl.question('Password: ', (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
    // Echo nothing of what is typed.
    out._writeToOutput = () => {};
  });
}

function complete(session: Session, line: string): [string[], string] {
  const words = splitWords(line);
  const last = line.endsWith(' ') ? '' : (words.at(-1) ?? '');
  const candidates = new Set(['list', 'show', 'create', 'add', 'set', 'clear', 'delete', 'describe', 'sett', 'cleart', 'help', 'quit', ...ROOT_TYPES]);
  for (const w of words) {
    const t = Object.values(TYPES).find((x) => x.name === w);
    if (!t) continue;
    for (const c of t.children) candidates.add(TYPES[c]!.name);
    for (const f of t.fields) candidates.add(f.name);
  }
  for (const a of session.knownAliases()) candidates.add(a);
  return [[...candidates].filter((c) => c.startsWith(last)).sort(), last];
}

/** midonet-cli: MidoNet's operator shell, same grammar, settings and output. */
export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'midonet-url': { type: 'string' },
        'no-auth': { type: 'boolean', short: 'A' },
        eval: { type: 'string', short: 'e', multiple: true },
        user: { type: 'string', short: 'u' },
        password: { type: 'boolean', short: 'p' },
        'project-id': { type: 'string', short: 'i' },
        tenant: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean', short: 'd' },
      },
      allowPositionals: true,
    }));
  } catch (err) {
    console.error(`midonet-cli: ${(err as Error).message}`);
    return 2;
  }
  const rc = midonetrc();
  const url = (values['midonet-url'] ?? process.env.MIDO_API_URL ?? rc.api_url ?? 'http://127.0.0.1:8181/midonet-api').replace(/\/$/, '');
  const user = values.user ?? process.env.MIDO_USER ?? rc.username;
  const project = values['project-id'] ?? process.env.MIDO_PROJECT_ID ?? rc.project_id ?? null;
  const tenant = values.tenant ?? process.env.MIDO_TENANT ?? rc.tenant ?? null;
  const api = new ApiClient(url, tenant);
  try {
    if (!values['no-auth']) {
      const password = values.password ? await askPassword() : (process.env.MIDO_PASSWORD ?? rc.password);
      if (!user || password === undefined) {
        console.error('midonet-cli: username and password are required (or -A for no authentication)');
        return 2;
      }
      await api.login(user, password, project);
    }
    const root = await api.get('', 'Application-v5');
    await api.get('/system_state', 'SystemState-v2');
    const interactive = !values.eval && process.stdin.isTTY === true;
    const session = new Session(api, root, interactive);
    session.tenant = tenant;
    session.json = values.json === true;
    const runOne = async (line: string): Promise<boolean> => {
      try {
        for (const out of await session.run(line)) console.log(out);
        return true;
      } catch (err) {
        if (err instanceof CliError || err instanceof ApiFailure) console.error(`${err instanceof ApiFailure ? 'Error: ' : ''}${err.message}`);
        else if (err instanceof TypeError && String(err.message).includes('fetch')) console.error(`Error: cannot reach the MidoNet API at ${url}`);
        else console.error(`Error: ${(err as Error).message}`);
        return false;
      }
    };
    if (values.eval) {
      for (const cmd of values.eval) if (!(await runOne(cmd))) return 1;
      return 0;
    }
    const history = interactive ? loadHistory() : [];
    const rl = createInterface({
      input: process.stdin,
      output: process.stdout,
      prompt: 'midonet> ',
      terminal: interactive,
      completer: (line: string) => complete(session, line),
      historySize: HISTORY_SIZE,
      history,
    });
    if (interactive) rl.on('history', saveHistory);
    if (interactive) rl.prompt();
    let failed = false;
    for await (const line of rl) {
      const cmd = line.trim();
      if (cmd === 'quit' || cmd === 'exit') break;
      if (!(await runOne(cmd))) failed = true;
      if (interactive) rl.prompt();
    }
    rl.close();
    return failed && !interactive ? 1 : 0;
  } catch (err) {
    if (values.debug) console.error(err);
    console.error(DOWN);
    return 1;
  }
}
