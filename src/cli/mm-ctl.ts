import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { DEFAULT_BINDING_SOCKET } from '../agent/binding-api.ts';
import { messageOfErrorBody } from '../cluster/api/errors.ts';

const USAGE = `usage: mm-ctl --bind-port PORT_ID INTERFACE | --unbind-port PORT_ID [--socket PATH]
Binds a virtual port to an interface of this host through the local agent.`;

function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** `mm-ctl`, as Nova's VIF driver and operators call it. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'bind-port': { type: 'string' },
        'unbind-port': { type: 'string' },
        socket: { type: 'string', default: process.env.MIDOLMAN_BINDING_SOCKET ?? DEFAULT_BINDING_SOCKET },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`mm-ctl: ${(err as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  let method: string;
  let port: string;
  let body: unknown;
  if (values['bind-port'] && positionals.length === 1) {
    [method, port, body] = ['PUT', values['bind-port'], { interfaceName: positionals[0] }];
  } else if (values['unbind-port'] && positionals.length === 0) {
    [method, port] = ['DELETE', values['unbind-port']];
  } else {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    const r = await call(values.socket!, method, `/binding/${encodeURIComponent(port)}`, body);
    if (r.status === 200) return 0;
    console.error(`mm-ctl: ${messageOfErrorBody(r.text)}`);
    return 1;
  } catch {
    console.error(`mm-ctl: the agent is not running (no binding API at ${values.socket})`);
    return 1;
  }
}
