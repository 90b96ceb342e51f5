import { readFileSync, writeFileSync } from 'node:fs';
import { midonetrc } from '../../conf/credentials.ts';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ApiClient, ApiFailure } from './client.ts';
import { CliError, Session, splitWords } from './shell.ts';

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
  const last = line.endsWith(' ') ? '' : (splitWords(line).at(-1) ?? '');
  return [session.completions(line).filter((c) => c.startsWith(last)).sort(), last];
}

const USAGE = `Usage: midonet-cli [options] [-e COMMAND...]

Options:
  -h, --help            show this help message and exit
  -A, --no-auth         Skip authentication
  --midonet-url=URL     Midonet API server URL
  -u USERNAME, --user=USERNAME
                        Username
  -i PROJECT_ID, --project-id=PROJECT_ID
                        Midonet Project ID
  --tenant=UUID         Tenant id
  -e, --eval            Evaluate a single command, given at the end of the
                        argument list (each further -e starts another one)
  -p, --password        Ask for password interactively
  -d, --debug           Enable debugging
  --json                Print objects as the API's JSON, one per line`;

/**
 * The commands given with -e: as MidoNet's CLI, `-e` is a flag and the command is the rest of the
 * arguments (`midonet-cli -A -e router list`); a further `-e` starts another command.
 */
function evalCommands(argv: string[]): { options: string[]; commands: string[] | null } {
  const first = argv.findIndex((a) => a === '-e' || a === '--eval');
  if (first < 0) return { options: argv, commands: null };
  const commands: string[] = [];
  let words: string[] = [];
  for (const a of argv.slice(first + 1)) {
    if (a === '-e' || a === '--eval') {
      commands.push(words.join(' '));
      words = [];
    } else words.push(a);
  }
  commands.push(words.join(' '));
  return { options: argv.slice(0, first), commands: commands.filter((c) => c.trim() !== '') };
}

/** midonet-cli: MidoNet's operator shell, same grammar, settings and output. */
export async function main(argv: string[]): Promise<number> {
  let values;
  const { options, commands } = evalCommands(argv);
  try {
    ({ values } = parseArgs({
      args: options,
      options: {
        help: { type: 'boolean', short: 'h' },
        'midonet-url': { type: 'string' },
        'no-auth': { type: 'boolean', short: 'A' },
        user: { type: 'string', short: 'u' },
        password: { type: 'boolean', short: 'p' },
        'project-id': { type: 'string', short: 'i' },
        tenant: { type: 'string' },
        json: { type: 'boolean' },
        debug: { type: 'boolean', short: 'd' },
      },
    }));
  } catch (err) {
    console.error(`midonet-cli: ${(err as Error).message.split('\n')[0]} (midonet-cli -h for help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const rc = midonetrc();
  const url = (values['midonet-url'] ?? process.env.MIDO_API_URL ?? rc.api_url ?? 'http://127.0.0.1:8181/midonet-api').replace(/\/$/, '');
  const user = values.user ?? process.env.MIDO_USER ?? rc.username;
  const project = values['project-id'] ?? process.env.MIDO_PROJECT_ID ?? rc.project_id ?? null;
  const tenant = values.tenant ?? process.env.MIDO_TENANT ?? rc.tenant ?? null;
  const api = new ApiClient(url);
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
    const interactive = !commands && process.stdin.isTTY === true;
    const session = new Session(api, root, interactive);
    session.tenant = tenant;
    session.json = values.json === true;
    session.debug = values.debug === true;
    const runOne = async (line: string): Promise<boolean> => {
      try {
        for (const out of await session.run(line)) console.log(out);
        return true;
      } catch (err) {
        if (session.debug) console.error(err);
        if (err instanceof CliError || err instanceof ApiFailure) console.error(`${err instanceof ApiFailure ? 'Error: ' : ''}${err.message}`);
        else if (err instanceof TypeError && String(err.message).includes('fetch')) console.error(`Error: cannot reach the MidoNet API at ${url}`);
        else console.error(`Error: ${(err as Error).message}`);
        return false;
      }
    };
    if (commands) {
      for (const cmd of commands) if (!(await runOne(cmd))) return 1;
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
