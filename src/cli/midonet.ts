import { parseArgs } from 'node:util';
import { messageOfErrorBody } from '../cluster/api/errors.ts';
import { ApiToken, toolCredentials } from '../conf/credentials.ts';
import type { TraceReport } from '../simulation/trace.ts';
import { SANDBOX_USAGE, SandboxError, sandboxCommand } from './sandbox.ts';

const USAGE = `usage: midonet trace --in-port PORT --src-ip A --dst-ip B [--proto tcp|udp|icmp|arp|N]
                     [--src-port N] [--dst-port N] [--eth-src MAC] [--eth-dst MAC] [--vlan N] [--ttl N]
                     [--tcp-flags syn,ack] [--icmp-type N] [--icmp-code N] [--fragment first|later]
                     [--minimal | --json] [--midonet-url URL] [-u USER -p PASSWORD]
Simulates the packet through the virtual topology with the agent's code and prints every
device, chain and rule it meets (--minimal: only rewrites and deliveries).

${SANDBOX_USAGE}`;

class CliError extends Error {}

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${name} must be a number, not ${v}`);
  return Number(v);
};

async function traceCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      'in-port': { type: 'string' }, 'src-ip': { type: 'string' }, 'dst-ip': { type: 'string' }, proto: { type: 'string' },
      'src-port': { type: 'string' }, 'dst-port': { type: 'string' }, 'eth-src': { type: 'string' }, 'eth-dst': { type: 'string' },
      vlan: { type: 'string' }, ttl: { type: 'string' }, 'tcp-flags': { type: 'string' }, 'icmp-type': { type: 'string' },
      'icmp-code': { type: 'string' }, fragment: { type: 'string' }, minimal: { type: 'boolean' }, json: { type: 'boolean' },
      'midonet-url': { type: 'string', default: process.env.MIDO_API_URL ?? 'http://localhost:8181/midonet-api' },
      user: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' },
    },
  });
  if (!values['in-port']) throw new CliError('--in-port is required');
  const body = {
    inPort: values['in-port'], srcIp: values['src-ip'], dstIp: values['dst-ip'], proto: values.proto,
    srcPort: num(values['src-port'], 'src-port'), dstPort: num(values['dst-port'], 'dst-port'),
    ethSrc: values['eth-src'], ethDst: values['eth-dst'], vlan: num(values.vlan, 'vlan'), ttl: num(values.ttl, 'ttl'),
    tcpFlags: values['tcp-flags'], icmpType: num(values['icmp-type'], 'icmp-type'), icmpCode: num(values['icmp-code'], 'icmp-code'),
    fragment: values.fragment,
  };
  const url = values['midonet-url']!.replace(/\/$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/vnd.org.midonet.PacketTrace-v1+json', accept: 'application/json' };
  try {
    Object.assign(headers, await new ApiToken(url, toolCredentials(values.user, values.password)).headers());
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  let r: Response;
  try {
    r = await fetch(`${url}/trace`, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch {
    throw new CliError(`cannot reach the MidoNet API at ${url}`);
  }
  const text = await r.text();
  if (r.status !== 200) {
    throw new CliError(`trace failed (${r.status}): ${messageOfErrorBody(text)}`);
  }
  const report = JSON.parse(text) as TraceReport;
  console.log(values.json ? JSON.stringify(report, null, 2) : values.minimal ? report.minimal : report.detailed);
}

/** `midonet SUBCOMMAND ...`: tools MidoNet itself had no command for. */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'trace') await traceCommand(rest);
    else if (sub === 'sandbox') return await sandboxCommand(rest);
    else {
      console.log(USAGE);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
    }
    return 0;
  } catch (err) {
    const msg = err instanceof CliError || err instanceof SandboxError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) ? err.message : `unexpected error: ${String(err)}`;
    console.error(`midonet: ${msg}`);
    return 1;
  }
}
