import type { Core } from 'cytoscape';
import type { NPort } from '../model/neutron.ts';
import { NT } from '../model/neutron.ts';
import { T, type Port } from '../model/types.ts';
import type { TraceReport } from '../simulation/trace.ts';
import { api } from './api.ts';
import type { Model } from './model.ts';

/** The in-port choices: every port bound to a host, named as the graph names it. */
export function fillPorts(select: HTMLSelectElement, m: Model): void {
  const chosen = select.value;
  const options = m.all<Port>(T.Port).filter((p) => p.hostId).map((p) => {
    const n = m.get<NPort>(NT.Port, p.id);
    return [p.id, `${n?.name || p.id.slice(0, 8)} ${n?.fixed_ips[0]?.ip_address ?? ''}`.trim()] as const;
  }).sort((a, b) => a[1].localeCompare(b[1]));
  const html = options.map(([id, label]) => `<option value="${id}">${label}</option>`).join('');
  if (select.innerHTML !== html) {
    select.innerHTML = html;
    if (options.some(([id]) => id === chosen)) select.value = chosen;
  }
}

/**
 * Traces the packet the form describes with the cluster's simulation (POST /trace, what `midonet
 * trace` calls) and draws the devices and ports it crossed on the graph.
 */
export async function runTrace(form: HTMLFormElement, cy: Core, out: HTMLElement): Promise<TraceReport | null> {
  const f = new FormData(form);
  const val = (k: string) => String(f.get(k) ?? '').trim();
  const body: Record<string, unknown> = { inPort: val('inPort'), dstIp: val('dstIp'), proto: val('proto') };
  if (val('srcIp')) body.srcIp = val('srcIp');
  if (val('dstPort') && body.proto !== 'icmp') body.dstPort = Number(val('dstPort'));
  if (body.proto === 'icmp') body.icmpType = 8;
  cy.elements().removeClass('traced');
  try {
    const report = await api<TraceReport>('/trace', { method: 'POST', body: JSON.stringify(body), media: 'application/vnd.org.midonet.PacketTrace-v1+json' });
    const crossed = report.steps.filter((s) => s.kind === 'port' || s.kind === 'bridge' || s.kind === 'router').map((s) => s.id);
    for (const o of report.outputs) crossed.push(o.portId);
    const path = crossed.filter((id, i) => id !== crossed[i - 1] && cy.getElementById(id).nonempty());
    for (const [i, id] of path.entries()) {
      cy.getElementById(id).addClass('traced');
      const prev = path[i - 1];
      if (prev) cy.getElementById(prev).edgesWith(cy.getElementById(id)).addClass('traced');
    }
    out.textContent = `${report.action}: ${report.reason}\n\n${report.detailed}`;
    return report;
  } catch (err) {
    out.textContent = `trace failed: ${(err as Error).message}`;
    return null;
  }
}
