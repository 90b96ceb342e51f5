import { T } from '../model/types.ts';
import { NT } from '../model/neutron.ts';
import { HOST_STATS } from '../model/state-keys.ts';
import { TOPOLOGY_PATH, type TopologyMessage, type TopologyRequest } from '../model/topology-protocol.ts';
import type { Model } from './model.ts';

/** The types the console draws or lists. */
const FOLLOWED = [T.Router, T.Network, T.Port, T.Host, T.TunnelZone, T.Chain, NT.Port];

/** Which state keys of a new object the console follows. */
const STATE_KEYS: Record<string, string[]> = { [T.Port]: ['active'], [T.Host]: ['alive', HOST_STATS] };

/**
 * The topology stream, as the agents follow it: the whole of each type the console draws and the
 * state keys that colour it, over the login's session cookie. Reconnects when it drops.
 */
export class ConsoleStream {
  private ws: WebSocket | null = null;

  constructor(
    private readonly model: Model,
    private readonly status: (text: string, error?: boolean) => void,
  ) {
    model.onChange(() => this.followState());
  }

  start(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${TOPOLOGY_PATH}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.status('live');
      this.model.clear();
      for (const type of FOLLOWED) this.send({ op: 'watchType', type });
    };
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as TopologyMessage;
      if (m.op === 'error') this.status(m.message, true);
      else this.model.apply(m);
    };
    ws.onclose = () => {
      this.status('disconnected; reconnecting…', true);
      setTimeout(() => this.start(), 2000);
    };
  }

  private send(r: TopologyRequest): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(r));
  }

  private followState(): void {
    for (const { type, id } of this.model.arrived.splice(0)) {
      for (const key of STATE_KEYS[type] ?? []) this.send({ op: 'watchState', type, id, key });
    }
  }
}
