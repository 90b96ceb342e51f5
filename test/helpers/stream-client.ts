import { WebSocket } from 'ws';
import type { TopologyMessage } from '../../src/model/topology-protocol.ts';

/** A subscriber that records every message in order. */
export class StreamClient {
  readonly seen: TopologyMessage[] = [];
  private req = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.seen.push(JSON.parse(d.toString()) as TopologyMessage));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<StreamClient> {
    const ws = new WebSocket(url, { headers });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new StreamClient(ws);
  }

  async send(m: Record<string, unknown>): Promise<TopologyMessage> {
    const req = ++this.req;
    this.ws.send(JSON.stringify({ ...m, req }));
    return this.until((s) => s.find((x) => (x.op === 'ack' || x.op === 'error') && x.req === req));
  }

  async until<X>(pick: (seen: TopologyMessage[]) => X | undefined, ms = 5000): Promise<X> {
    const end = Date.now() + ms;
    for (;;) {
      const x = pick(this.seen);
      if (x !== undefined) return x;
      if (Date.now() > end) throw new Error(`timed out; saw ${JSON.stringify(this.seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.ws.close();
  }
}

