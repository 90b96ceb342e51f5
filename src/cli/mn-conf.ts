import { parseArgs } from 'node:util';
import { DEFAULT_HOST_ID_FILE, loadHostId } from '../agent/host-id.ts';
import { AGENT_CONF, CLUSTER_CONF, readBootstrap } from '../conf/bootstrap.ts';
import { HttpConf } from '../conf/conf-client.ts';
import { toolCredentials } from '../conf/credentials.ts';
import { StoreConf, type ConfAccess } from '../conf/conf-store.ts';
import { parseHocon, renderHocon, type Flat } from '../conf/hocon.ts';
import { SCHEMA } from '../conf/schema.ts';
import { isUuid } from '../model/net.ts';
import { openStore } from '../nsdb/open.ts';

const USAGE = `usage: mn-conf COMMAND [options]
  get [-h HOST|-t TEMPLATE|-s] [-H] KEY       the value in force (or at one level with -H)
  set [-h HOST|-t TEMPLATE] [-c] [CONFIG]     HOCON from the argument or standard input
  unset [-h HOST|-t TEMPLATE] KEY
  dump [-h HOST|-t TEMPLATE|-s] [-H] [-j]     everything in force (-H: only this level, -j: JSON)
  template-set -h HOST -t TEMPLATE | template-get [-h HOST] | template-clear -h HOST | template-list
  hosts | doc [KEY]
HOST is a host id or "local". The NSDB: [zookeeper] zookeeper_hosts in /etc/midonet/midonet.conf or
/etc/midolman/midolman.conf, or MIDO_ZOOKEEPER_HOSTS; without ZooKeeper, the cluster at
MIDONET_CLUSTER_URL (default http://127.0.0.1:8181/midonet-api), with the credentials of
MIDO_TOKEN_FILE, MIDO_USER and MIDO_PASSWORD, or ~/.midonetrc [cli] username and password.`;

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function hostOf(h: string): string {
  if (h === 'local') return loadHostId(process.env.MIDO_HOST_ID_FILE ?? DEFAULT_HOST_ID_FILE);
  if (!isUuid(h)) throw new UsageError(`${h} is not a host id (or "local")`);
  return h.toLowerCase();
}

function show(flat: Flat, json: boolean): string {
  return json ? JSON.stringify(flat, null, 2) : renderHocon(flat);
}

async function command(conf: ConfAccess, cmd: string, args: string[]): Promise<string | null> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { host: { type: 'string', short: 'h' }, template: { type: 'string', short: 't' }, schema: { type: 'boolean', short: 's' }, clear: { type: 'boolean', short: 'c' }, 'this-level': { type: 'boolean', short: 'H' }, json: { type: 'boolean', short: 'j' }, all: { type: 'boolean', short: 'a' } },
  });
  const host = values.host ? hostOf(values.host) : null;
  const level = async (): Promise<Flat> => {
    if (values.schema) return conf.get('schema', '');
    if (values.template) return values['this-level'] ? conf.get('template', values.template) : { ...(await conf.runtime(null)), ...(await conf.get('template', values.template)) };
    if (host) return values['this-level'] ? conf.get('node', host) : conf.runtime(host);
    return conf.runtime(null);
  };
  const target = (): ['template' | 'node', string] => (host ? ['node', host] : ['template', values.template ?? 'default']);
  switch (cmd) {
    case 'get': {
      const key = positionals[0];
      if (!key) throw new UsageError('get KEY');
      const all = await level();
      const hits = Object.entries(all).filter(([k]) => k === key || k.startsWith(`${key}.`));
      if (hits.length === 0) throw new UsageError(`${key} is not set`);
      return hits.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n');
    }
    case 'set': {
      const text = positionals.length > 0 ? positionals.join('\n') : await readStdin();
      if (!text.trim()) throw new UsageError('set needs HOCON, as an argument or on standard input');
      let parsed: Flat;
      try {
        parsed = await parseHocon(text);
      } catch (err) {
        throw new UsageError(`invalid HOCON: ${(err as Error).message.split('\n')[0]}`);
      }
      const [kind, name] = target();
      await conf.set(kind, name, parsed, values.clear === true);
      return null;
    }
    case 'unset': {
      if (!positionals[0]) throw new UsageError('unset KEY');
      const [kind, name] = target();
      await conf.unset(kind, name, positionals[0]);
      return null;
    }
    case 'dump':
      return show(await level(), values.json === true);
    case 'template-set':
      if (!host || !values.template) throw new UsageError('template-set -h HOST -t TEMPLATE');
      if (!(await conf.templates()).includes(values.template)) throw new UsageError(`no template ${values.template}`);
      await conf.setMapping(host, values.template);
      return null;
    case 'template-get': {
      const m = await conf.mappings();
      if (host) return `${host} ${m[host] ?? 'default'}`;
      return Object.entries(m).map(([h, t]) => `${h} ${t}`).join('\n');
    }
    case 'template-clear':
      if (!host) throw new UsageError('template-clear -h HOST');
      await conf.setMapping(host, null);
      return null;
    case 'template-list':
      return (await conf.templates()).join('\n');
    case 'hosts':
      return Object.entries(await conf.mappings()).map(([h, t]) => `${h} template ${t}`).join('\n');
    case 'doc': {
      const key = positionals[0];
      const entries = Object.entries(SCHEMA).filter(([k]) => !key || k === key || k.startsWith(`${key}.`));
      if (entries.length === 0) throw new UsageError(`no documentation for ${key}`);
      return entries.map(([k, e]) => `${k} (default ${JSON.stringify(e.value)})\n    ${e.description}`).join('\n');
    }
    default:
      throw new UsageError(`unknown command ${cmd}`);
  }
}

/** mn-conf: MidoNet's configuration tool. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === 'help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const boot = readBootstrap(process.env.MIDO_BOOTSTRAP_FILES ? process.env.MIDO_BOOTSTRAP_FILES.split(':') : [CLUSTER_CONF, AGENT_CONF]);
  let conf: ConfAccess;
  let close = async () => {};
  try {
    if (boot.hosts) {
      const store = await openStore({ kind: 'zookeeper', hosts: boot.hosts, rootKey: boot.rootKey });
      conf = new StoreConf(store);
      close = () => store.close();
    } else {
      conf = new HttpConf((process.env.MIDONET_CLUSTER_URL ?? 'http://127.0.0.1:8181/midonet-api').replace(/\/$/, ''), toolCredentials());
    }
    const out = await command(conf, cmd, rest);
    if (out) console.log(out);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`mn-conf: ${e.code?.startsWith('ERR_PARSE_ARGS') ? e.message : e.message.split('\n')[0]}`);
    return err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  } finally {
    await close();
  }
}
