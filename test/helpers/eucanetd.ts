import { rawHttp } from './raw-http.ts';

/** A request body as eucanetd's mido_jsonize builds it: every value a string, nested objects and lists of them. */
export type EucaValue = string | EucaBody | EucaBody[] | string[];
export interface EucaBody {
  [key: string]: EucaValue;
}

const VND = (t: string) => `application/vnd.org.midonet.${t}+json`;

/** JSON as json-c prints it by default (spaced): `{ "tenantId": "t", "name": "n" }`. */
function jsonC(v: EucaValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[ ${v.map(jsonC).join(', ')} ]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${jsonC(x)}`).join(', ')} }`;
}

export interface MidoObject {
  uri: string;
  id?: string;
  [key: string]: unknown;
}

/**
 * MidoNet's API as eucanetd's midonet-api.c speaks it, byte for byte where it matters: GET with
 * `accept: <type>` (lowercase, as it writes it); every write preceded by GET /system_state; POST
 * with curl's headers, the new object found only through the raw header text `Location: `, then
 * read back; PUT with the JSON and one NUL byte, then read back; bodies of strings only, with the
 * tenant first.
 */
export class Eucanetd {
  /** Every call made, for the test's record: "METHOD path". */
  readonly calls: string[] = [];
  base = '';

  constructor(
    private readonly root: string,
    readonly tenant: string,
  ) {}

  async connect(): Promise<MidoObject> {
    const app = (await this.get(this.root, 'Application-v5')) as MidoObject & { version: string };
    if (app.version !== 'v5.0') throw new Error(`eucanetd needs API version v5.0, not ${app.version}`);
    this.base = app.uri.replace(/\/$/, '');
    return app;
  }

  async get(url: string, type: string): Promise<unknown> {
    this.calls.push(`GET ${new URL(url).pathname}`);
    // curl's own Accept is replaced by eucanetd's, which it writes in lowercase.
    const r = await rawHttp(url, 'GET', { accept: VND(type) });
    if (r.status !== 200 || r.body.length === 0) throw new Error(`GET ${url}: ${r.status} ${r.body}`);
    return JSON.parse(r.body) as unknown;
  }

  list<T = MidoObject>(path: string, type: string, tenant = true): Promise<T[]> {
    return this.get(`${this.base}/${path}${tenant ? `?tenant_id=${this.tenant}` : ''}`, `collection.${type}`) as Promise<T[]>;
  }

  private async systemState(): Promise<void> {
    await this.get(`${this.base}/system_state`, 'SystemState-v2');
  }

  /** mido_create_resource: POST under `parents` (["routers", id], ...), then GET what Location names. */
  async create(parents: [string, string][], resource: string, type: string, body: EucaBody, tenant: string | null = this.tenant): Promise<MidoObject> {
    await this.systemState();
    const url = `${this.base}/${parents.map(([t, id]) => `${t}/${id}/`).join('')}${resource}`;
    const payload = jsonC(tenant ? { tenantId: tenant, ...body } : body);
    this.calls.push(`POST ${new URL(url).pathname}`);
    const r = await rawHttp(url, 'POST', { Accept: '*/*', 'Content-Type': VND(type) }, Buffer.from(payload));
    if (r.status !== 200 && r.status !== 201) throw new Error(`POST ${url} ${payload}: ${r.status} ${r.body}`);
    // strstr(buf, "Location: ") then sscanf: only that exact text counts.
    const at = r.head.indexOf('Location: ');
    if (at < 0) throw new Error(`POST ${url}: no "Location: " in ${JSON.stringify(r.head)}`);
    const location = r.head.slice(at + 'Location: '.length).split(/\s/)[0]!;
    return (await this.get(location, type)) as MidoObject;
  }

  /** mido_link_ports: POST {peerId} to the port's link; nothing read back. */
  async link(a: MidoObject, b: MidoObject): Promise<void> {
    await this.systemState();
    const url = `${this.base}/ports/${a.id}/link`;
    this.calls.push(`POST ${new URL(url).pathname}`);
    const r = await rawHttp(url, 'POST', { Accept: '*/*', 'Content-Type': VND('PortLink-v1') }, Buffer.from(jsonC({ tenantId: this.tenant, peerId: String(b.id) })));
    if (r.status !== 200 && r.status !== 201) throw new Error(`link ${a.id} ${b.id}: ${r.status} ${r.body}`);
  }

  /** mido_update_resource: PUT the given fields (the JSON and a NUL byte) to the object's uri, then GET it. */
  async update(obj: MidoObject, type: string, body: EucaBody): Promise<MidoObject> {
    await this.systemState();
    const payload = Buffer.concat([Buffer.from(jsonC({ tenantId: this.tenant, ...body })), Buffer.from([0])]);
    this.calls.push(`PUT ${new URL(obj.uri).pathname}`);
    const r = await rawHttp(obj.uri, 'PUT', { Accept: '*/*', 'Content-Type': VND(type) }, payload);
    if (r.status !== 200 && r.status !== 204) throw new Error(`PUT ${obj.uri}: ${r.status} ${r.body}`);
    return (await this.get(obj.uri, type)) as MidoObject;
  }

  /**
   * mido_get_host_byip: the hosts alive, and the addresses of their interfaces whose endpoint is
   * PHYSICAL, DATAPATH or UNKNOWN.
   */
  async hostByIp(ip: string): Promise<MidoObject> {
    for (const h of await this.list<MidoObject & { alive: boolean }>('hosts', 'Host-v3', false)) {
      if (!h.alive) continue;
      const ifaces = (await this.get(`${this.base}/hosts/${h.id}/interfaces`, 'collection.Interface-v1')) as { endpoint: string; addresses: string[] }[];
      if (ifaces.some((i) => ['PHYSICAL', 'DATAPATH', 'UNKNOWN'].includes(i.endpoint) && i.addresses.includes(ip))) return h;
    }
    throw new Error(`no host has ${ip} on an interface eucanetd looks at`);
  }
}
