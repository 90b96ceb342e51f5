import { TYPES, type Dto } from '../cli/midonet-cli/types.ts';
import { NT } from '../model/neutron.ts';
import { HOST_STATS, readHostStats } from '../model/state-keys.ts';
import { T, type Host } from '../model/types.ts';
import { api } from './api.ts';
import type { Model } from './model.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' } as Record<string, string>)[c]};`);

/** A value as one line: lists joined, nothing for empty ones. */
function show(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (Array.isArray(v)) return v.length ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : null;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/**
 * A rule as midonet-cli prints it ("rule <id> type accept pos 1 proto 6 dst-port 22 ..."), the
 * objects it refers to by name where `nameOf` knows them.
 */
export function ruleLine(d: Dto, nameOf: (id: string) => string | null): string {
  const words = ['rule', String(d.id)];
  for (const f of TYPES.rule!.fields) {
    const v = f.get(d);
    if (v === null) continue;
    words.push(f.name, f.ref ? v.replace(/[0-9a-f-]{36}/g, (id) => nameOf(id) ?? id) : v);
  }
  return words.join(' ');
}

/** The chains an object names, by the role they play. */
function chainsOf(o: Record<string, unknown>): [string, string][] {
  const roles: [string, string][] = [['inboundFilterId', 'inbound'], ['outboundFilterId', 'outbound'], ['localRedirectChainId', 'redirect'], ['forwardChainId', 'forward']];
  return roles.flatMap(([k, role]) => (typeof o[k] === 'string' ? [[role, o[k] as string] as [string, string]] : []));
}

/** The side panel for one object: its fields, and its chains' rules read like midonet-cli's. */
export async function showDetails(el: HTMLElement, m: Model, id: string): Promise<void> {
  const type = m.typeOf(id);
  const o = type ? m.get<Record<string, unknown>>(type, id) : undefined;
  if (!type || !o) return;
  const rows = Object.entries(o).flatMap(([k, v]) => {
    const s = show(v);
    return s === null ? [] : [`<tr><td class="key">${esc(k)}</td><td>${esc(s)}</td></tr>`];
  });
  const states = type === T.Port ? ['active'] : type === T.Host ? ['alive'] : [];
  for (const k of states) rows.push(`<tr><td class="key">${k}</td><td>${esc(m.state(type, id, k) ?? 'no')}</td></tr>`);
  const title = o.name ?? m.get<{ name: string }>(NT.Port, id)?.name ?? id;
  el.innerHTML = `<h2>${esc(type)} ${esc(String(title || id))}</h2><table>${rows.join('')}</table><div class="chains"></div>`;
  const chains = el.querySelector<HTMLElement>('.chains')!;
  for (const [role, chain] of chainsOf(o)) {
    const name = m.get<{ name: string | null }>(T.Chain, chain)?.name ?? chain;
    const rules = await api<Dto[]>(`/chains/${chain}/rules`, { media: 'application/vnd.org.midonet.collection.Rule-v2+json' }).catch(() => [] as Dto[]);
    const nameOf = (ref: string) => m.get<{ name: string | null }>(m.typeOf(ref) ?? '', ref)?.name ?? null;
    chains.insertAdjacentHTML('beforeend', `<h2>${role} chain ${esc(name)}</h2>${rules.map((r) => `<div class="rule">${esc(ruleLine(r, nameOf))}</div>`).join('') || '<p class="hint">no rules</p>'}`);
  }
}

/** The hosts table: liveness and each agent's flow figures. */
export function showHosts(tbody: HTMLElement, m: Model): void {
  tbody.innerHTML = m.all<Host>(T.Host).map((h) => {
    const s = readHostStats(m.state(T.Host, h.id, HOST_STATS));
    const cells = [h.name ?? h.id, m.state(T.Host, h.id, 'alive') === 'true' ? 'yes' : 'no', s?.flows, s?.simulations, s?.flowHits, s?.dropped];
    return `<tr data-host="${esc(h.id)}">${cells.map((c) => `<td>${esc(String(c ?? '–'))}</td>`).join('')}</tr>`;
  }).join('');
}
