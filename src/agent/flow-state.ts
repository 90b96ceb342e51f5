import type { SimState } from '../simulation/state.ts';

/** VNI of flow-state messages between agents (MidoNet's tunnel key 0xFFFFFF). */
export const FLOW_STATE_VNI = 0xffffff;

/**
 * One conntrack or NAT key as sent to a peer host. Keys name devices by a per-process token, so
 * on the wire the device travels by id and the receiver uses its own token.
 */
export interface StateEntry {
  /** 'c' conntrack, or the NAT key kind: fsnat, fdnat, rsnat, rdnat. */
  kind: string;
  device: string;
  tuple: string;
  value: { ip: number; port: number } | null;
  ttlMs: number;
}

function split(key: string): { kind: string; token: string; tuple: string } | null {
  if (key.startsWith('c')) {
    const bar = key.indexOf('|');
    return bar < 0 ? null : { kind: 'c', token: key.slice(1, bar), tuple: key.slice(bar + 1) };
  }
  const a = key.indexOf('|');
  const b = key.indexOf('|', a + 1);
  return a < 0 || b < 0 ? null : { kind: key.slice(0, a), token: key.slice(a + 1, b), tuple: key.slice(b + 1) };
}

function join(kind: string, token: string, tuple: string): string {
  return kind === 'c' ? `c${token}|${tuple}` : `${kind}|${token}|${tuple}`;
}

/** The entries behind keys a simulation wrote, ready to push to the hosts that may see the reply. */
export function exportState(state: SimState, keys: readonly string[], now: number): StateEntry[] {
  const out: StateEntry[] = [];
  for (const key of keys) {
    const k = split(key);
    const device = k && state.deviceOfToken(k.token);
    if (!k || !device) continue;
    const e = k.kind === 'c' ? state.conntrack.get(key, now) : state.nat.get(key, now);
    if (!e) continue;
    const value = k.kind === 'c' ? null : { ip: (e as { ip: number }).ip, port: (e as { port: number }).port };
    out.push({ kind: k.kind, device, tuple: k.tuple, value, ttlMs: e.expires - now });
  }
  return out;
}

/** Stores entries pushed by a peer, as replicas (never releasing the peer's leased ports). */
export function importState(state: SimState, entries: readonly StateEntry[], now: number): number {
  let n = 0;
  for (const e of entries) {
    if (typeof e.kind !== 'string' || typeof e.device !== 'string' || typeof e.tuple !== 'string' || typeof e.ttlMs !== 'number') continue;
    const key = join(e.kind, state.deviceToken(e.device), e.tuple);
    const ttl = Math.max(0, Math.min(e.ttlMs, state.config.stateKeyTtlMs));
    if (e.kind === 'c') state.conntrack.set(key, {}, now + ttl);
    else if (e.value && Number.isInteger(e.value.ip) && Number.isInteger(e.value.port)) state.nat.set(key, { ip: e.value.ip, port: e.value.port }, now + ttl);
    else continue;
    n++;
  }
  return n;
}
