import { parseHocon, type Flat } from '../conf/hocon.ts';
import type { PacketWorkflow } from './packet-workflow.ts';

/** "15s", "500ms", "2m" or a number of milliseconds, as MidoNet's durations are written. */
export function durationMs(v: unknown): number | null {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(String(v).trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
  return Number(m[1]) * unit;
}

/** The settings an agent applies while running (the others need a restart, as in MidoNet). */
export function applyAgentConfig(c: Flat, wf: PacketWorkflow): void {
  const cfg = wf.state.config;
  const ms = (key: string, set: (v: number) => void) => {
    const v = durationMs(c[key]);
    if (v !== null && v > 0) set(v);
  };
  ms('agent.bridge.mac_port_mapping_expire', (v) => (cfg.macExpiryMs = v));
  ms('agent.arptable.arp_retry_interval', (v) => (cfg.arpRetryMs = v));
  ms('agent.arptable.arp_timeout', (v) => (cfg.arpTimeoutMs = v));
  ms('agent.arptable.arp_stale', (v) => (cfg.arpStaleMs = v));
  ms('agent.arptable.arp_expiration', (v) => (cfg.arpExpiryMs = v));
  const mtu = Number(c['agent.midolman.dhcp_mtu']);
  if (Number.isInteger(mtu) && mtu >= 68 && mtu <= 65535) cfg.dhcpMtu = mtu;
  const arp = c['agent.midolman.enable_bridge_arp'];
  if (typeof arp === 'boolean' || arp === 'true' || arp === 'false') cfg.bridgeArp = arp === true || arp === 'true';
  const flows = Number(c['agent.datapath.max_flow_count']);
  if (Number.isInteger(flows) && flows > 0) wf.flows.maxFlows = flows;
}

/** Fetches the host's configuration in force (mn-conf: schema < default < template < host). */
export async function fetchAgentConfig(api: string, hostId: string, auth: Record<string, string> = {}): Promise<Flat | null> {
  try {
    const r = await fetch(`${api}/conf/runtime/${hostId}`, { headers: { accept: 'text/plain', ...auth } });
    return r.status === 200 ? await parseHocon(await r.text()) : null;
  } catch {
    return null;
  }
}
