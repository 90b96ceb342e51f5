import type { Core, ElementDefinition } from 'cytoscape';
import type { NPort } from '../model/neutron.ts';
import { NT } from '../model/neutron.ts';
import { HOST_STATS, readHostStats } from '../model/state-keys.ts';
import { T, type Host, type Network, type Port, type Router } from '../model/types.ts';
import type { Model } from './model.ts';

/** What a node is drawn as. */
export type Kind = 'router' | 'bridge' | 'port' | 'vm' | 'host';

const short = (id: string) => id.slice(0, 8);

/** A port's label: the VM's name, a router port's address, or its Neutron address. */
function portLabel(p: Port, n: NPort | undefined): string {
  if (n?.device_owner.startsWith('compute:') && n.name) return n.name;
  if (p.portSubnet.length) return p.portSubnet[0]!;
  return n?.name || n?.fixed_ips[0]?.ip_address || short(p.id);
}

/** The port's colour: down (admin), active (bound and up on its host), or neither. */
function portState(m: Model, p: Port): string {
  if (!p.adminStateUp) return 'down';
  if (p.hostId) return m.state(T.Port, p.id, 'active') ? 'active' : 'inactive';
  return 'interior';
}

/**
 * The graph's elements from the model: routers, bridges, their ports (VMs where Nova plugged
 * them), hosts; edges from devices to their ports, between linked ports, and from bound ports to
 * their hosts.
 */
export function elements(m: Model): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  for (const r of m.all<Router>(T.Router)) out.push({ group: 'nodes', data: { id: r.id, kind: 'router', label: r.name || short(r.id), state: r.adminStateUp ? 'up' : 'down' } });
  for (const b of m.all<Network>(T.Network)) out.push({ group: 'nodes', data: { id: b.id, kind: 'bridge', label: b.name || short(b.id), state: b.adminStateUp ? 'up' : 'down' } });
  for (const h of m.all<Host>(T.Host)) {
    const stats = readHostStats(m.state(T.Host, h.id, HOST_STATS));
    const alive = m.state(T.Host, h.id, 'alive') === 'true';
    out.push({ group: 'nodes', data: { id: h.id, kind: 'host', label: `${h.name ?? short(h.id)}${stats ? `\n${stats.flows} flows` : ''}`, state: alive ? 'alive' : 'dead' } });
  }
  const ports = m.all<Port>(T.Port);
  const linked = new Set<string>();
  for (const p of ports) {
    const device = p.routerId ?? p.networkId;
    if (!device || !m.get(p.routerId ? T.Router : T.Network, device)) continue;
    const n = m.get<NPort>(NT.Port, p.id);
    const kind: Kind = p.hostId && n?.device_owner.startsWith('compute:') ? 'vm' : 'port';
    out.push({ group: 'nodes', data: { id: p.id, kind, label: portLabel(p, n), state: portState(m, p) } });
    out.push({ group: 'edges', data: { id: `${device}>${p.id}`, source: device, target: p.id, kind: 'member' } });
    if (p.peerId && !linked.has(p.id) && m.get(T.Port, p.peerId)) {
      linked.add(p.peerId);
      out.push({ group: 'edges', data: { id: `${p.id}=${p.peerId}`, source: p.id, target: p.peerId, kind: 'link' } });
    }
    if (p.hostId && m.get(T.Host, p.hostId)) out.push({ group: 'edges', data: { id: `${p.id}@${p.hostId}`, source: p.id, target: p.hostId, kind: 'binding' } });
  }
  // A link to a port whose device is not drawn would dangle.
  const ids = new Set(out.filter((e) => e.group === 'nodes').map((e) => e.data.id));
  return out.filter((e) => e.group === 'nodes' || (ids.has(e.data.source as string) && ids.has(e.data.target as string)));
}

export const STYLE = [
  { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 3, 'text-wrap': 'wrap', 'border-width': 0 } },
  { selector: 'node[kind="router"]', style: { shape: 'round-rectangle', width: 46, height: 30, 'background-color': '#2f6fd0', 'font-weight': 'bold' } },
  { selector: 'node[kind="bridge"]', style: { shape: 'ellipse', width: 40, height: 40, 'background-color': '#31a354' } },
  { selector: 'node[kind="host"]', style: { shape: 'diamond', width: 40, height: 40, 'background-color': '#59636e' } },
  { selector: 'node[kind="host"][state="dead"]', style: { 'background-color': '#d0362b' } },
  { selector: 'node[kind="port"]', style: { width: 12, height: 12, 'font-size': 8, 'background-color': '#8fa9c9' } },
  { selector: 'node[kind="vm"]', style: { shape: 'round-rectangle', width: 26, height: 20, 'background-color': '#9aa3ad' } },
  { selector: 'node[state="active"]', style: { 'background-color': '#2e9e44' } },
  { selector: 'node[state="inactive"]', style: { 'background-color': '#9aa3ad' } },
  { selector: 'node[state="down"]', style: { 'background-color': '#d0362b' } },
  { selector: 'edge', style: { width: 1.5, 'line-color': '#b8c0cc', 'curve-style': 'bezier' } },
  { selector: 'edge[kind="link"]', style: { width: 2.5, 'line-color': '#56708f' } },
  { selector: 'edge[kind="binding"]', style: { 'line-style': 'dashed', 'line-color': '#c9ced6' } },
  { selector: 'node.traced', style: { 'border-width': 4, 'border-color': '#f08c00', 'z-index': 10 } },
  { selector: 'edge.traced', style: { 'line-color': '#f08c00', width: 4, 'z-index': 10 } },
  { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#1d2430' } },
];

/**
 * Brings the drawing in line with the model: new elements added, gone ones removed, data of the
 * others updated in place (colours change without moving anything); the layout runs again only
 * when elements came or went.
 */
export function sync(cy: Core, m: Model): void {
  const want = elements(m);
  const ids = new Set(want.map((e) => e.data.id!));
  let structural = false;
  cy.batch(() => {
    cy.elements().forEach((e) => {
      if (!ids.has(e.id())) {
        e.remove();
        structural = true;
      }
    });
    // Nodes before the edges that join them.
    for (const e of [...want].sort((a, b) => (a.group === b.group ? 0 : a.group === 'nodes' ? -1 : 1))) {
      const have = cy.getElementById(e.data.id!);
      if (have.nonempty()) have.data(e.data);
      else {
        cy.add(e);
        structural = true;
      }
    }
  });
  if (structural) cy.layout({ name: 'cose', animate: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 60, randomize: false }).run();
}
