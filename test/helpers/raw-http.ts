import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** The header block as the server wrote it, names in their own case. */
  head: string;
  body: string;
}

/** One HTTP/1.1 exchange over a socket, bytes as given: for clients that depend on exact header text or send odd bodies. */
export function rawHttp(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => {
      const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      if (body) lines.push(`Content-Length: ${body.length}`);
      lines.push('Connection: close', '', '');
      s.write(Buffer.concat([Buffer.from(lines.join('\r\n')), body ?? Buffer.alloc(0)]));
    });
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      let rest = text.slice(split + 4);
      if (/^transfer-encoding: chunked/im.test(head)) {
        let out = '';
        for (;;) {
          const nl = rest.indexOf('\r\n');
          const size = parseInt(rest.slice(0, nl), 16);
          if (!size) break;
          out += rest.slice(nl + 2, nl + 2 + size);
          rest = rest.slice(nl + 2 + size + 2);
        }
        rest = out;
      }
      resolve({ status: Number(head.split(' ')[1]), head, body: rest });
    });
  });
}
