/**
 * The metadata proxy (agent.openstack.metadata): answers VMs' requests to 169.254.169.254:80 by
 * asking Nova's metadata server on their behalf, naming the instance (the port's device id), its
 * project and address, and signing the instance id with the shared secret, as Neutron's metadata
 * agent does. Which VM asks is known from the link address its port was given, never from what
 * the VM sends: headers naming an instance are dropped from requests.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { NPort } from '../../model/neutron.ts';
import { intToIp } from '../../model/net.ts';
import { METADATA_IP, type MetadataLink } from './metadata-link.ts';

export interface MetadataSettings {
  novaUrl: string;
  secret: string;
}

/** Headers a VM may not set: they are the proxy's to say. */
const OURS = new Set(['x-instance-id', 'x-instance-id-signature', 'x-tenant-id', 'x-forwarded-for', 'host', 'connection', 'content-length', 'transfer-encoding']);

export const signature = (secret: string, instanceId: string) => createHmac('sha256', secret).update(instanceId).digest('hex');

export class MetadataProxy {
  private server: Server | null = null;
  readonly counters = { proxied: 0, refused: 0, failed: 0 };

  constructor(
    private readonly link: MetadataLink,
    private readonly neutronPort: (id: string) => NPort | undefined,
    private settings: MetadataSettings,
  ) {}

  configure(s: MetadataSettings): void {
    this.settings = s;
  }

  listen(port = 80): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, intToIp(METADATA_IP), () => resolve());
    });
  }

  close(): void {
    this.server?.close();
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const portId = this.link.portOf(req.socket.remoteAddress ?? '');
    const port = portId ? this.neutronPort(portId) : undefined;
    const vm = portId ? this.link.vmAddressOf(portId) : null;
    if (!port || !port.device_id || !vm) {
      this.counters.refused++;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('No instance is known for this address\n');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!OURS.has(k) && typeof v === 'string') headers[k] = v;
    Object.assign(headers, {
      'x-instance-id': port.device_id,
      'x-tenant-id': port.tenant_id,
      'x-instance-id-signature': signature(this.settings.secret, port.device_id),
      'x-forwarded-for': vm,
    });
    try {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      const answer = await fetch(new URL(req.url ?? '/', this.settings.novaUrl), { method: req.method, headers, body: body ? new Uint8Array(body) : undefined });
      this.counters.proxied++;
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch (err) {
      this.counters.failed++;
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`The metadata server did not answer: ${(err as Error).message}\n`);
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}
