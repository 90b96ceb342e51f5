/**
 * Port -> bridge port (same id) with its MAC and ARP entries, DHCP host entries (subnet.ts), and
 * for VM ports with port security: inbound, outbound and anti-spoofing chains that jump to the
 * port's security groups. Inputs: the port, its network, its security groups, the hosts (a
 * binding names its host by name).
 */
import { newPort } from '../../../model/defaults.ts';
import { T, type Host, type Port } from '../../../model/types.ts';
import { invalidInput } from '../errors.ts';
import { derivedId } from '../ids.ts';
import { DEVICE_OWNER, isNetworkOwned, isUplink, type NNetwork, type NPort } from '../../../model/neutron.ts';
import { arpTableKey, macTableKey } from '../../../model/state-keys.ts';
import { ETHERTYPE, type RuleSpec, type Translation } from './context.ts';
import { sgEgressChainId, sgIngressChainId, syncGroupAddresses } from './security-group.ts';
import { syncSubnetPort } from './subnet.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';

export const portChainIds = (id: string) => ({
  inbound: derivedId(id, 'port_inbound_chain'),
  outbound: derivedId(id, 'port_outbound_chain'),
  antiSpoof: derivedId(id, 'port_anti_spoof_chain'),
});

/** Whether the port gets a bridge port: not on an uplink network, not a floating IP's holder. */
export const isBridged = (p: NPort, net: NNetwork): boolean => !isUplink(net) && p.device_owner !== DEVICE_OWNER.floatingIp;

const isFiltered = (p: NPort): boolean => !isNetworkOwned(p) && p.port_security_enabled;

/** The interface name a port's binding profile asks for, if any. */
const interfaceOf = (p: NPort): string | null => {
  const name = p['binding:profile'].interface_name;
  return typeof name === 'string' && name !== '' ? name : null;
};

/**
 * The host and interface a port is bound to by its binding (`binding:host_id` is the host's name,
 * `binding:profile.interface_name` the interface), or null when it asks for none.
 */
export async function bindingOf(t: Translation, p: NPort): Promise<{ hostId: string; interfaceName: string } | null> {
  const iface = interfaceOf(p);
  if (!iface || !p['binding:host_id']) return null;
  const named = await t.tx.find<Host>(IX.hostsByName, indexKey(p['binding:host_id']));
  const host = named[0] ?? (await t.tx.tryGet<Host>(T.Host, p['binding:host_id']));
  if (!host) throw invalidInput(`binding:host_id ${p['binding:host_id']} is not a MidoNet host`);
  return { hostId: host.id, interfaceName: iface };
}

const dropNonArp: RuleSpec = { type: 'drop', dlType: ETHERTYPE.arp, invDlType: true };
const acceptReturn: RuleSpec = { type: 'accept', matchReturnFlow: true };
const jump = (chain: string): RuleSpec => ({ type: 'jump', jumpChainId: chain });

function antiSpoofRules(p: NPort): RuleSpec[] {
  const rules: RuleSpec[] = [{ type: 'return', dlType: ETHERTYPE.ipv4, nwProto: 17, tpSrc: { start: 68, end: 68 }, tpDst: { start: 67, end: 67 } }];
  const pairs = [
    ...p.fixed_ips.map((f) => ({ ip: `${f.ip_address}/32`, mac: p.mac_address })),
    ...p.allowed_address_pairs.map((a) => ({ ip: a.ip_address.includes('/') ? a.ip_address : `${a.ip_address}/32`, mac: a.mac_address || p.mac_address })),
  ];
  for (const { ip, mac } of pairs) {
    const [address, length] = ip.split('/');
    for (const dlType of [ETHERTYPE.ipv4, ETHERTYPE.arp]) {
      rules.push({ type: 'return', dlSrc: mac, dlType, nwSrcAddress: address!, nwSrcLength: Number(length) });
    }
  }
  rules.push({ type: 'drop' });
  return rules;
}

async function syncChains(t: Translation, p: NPort, port: Port): Promise<Port> {
  const ids = portChainIds(p.id);
  if (!isFiltered(p)) {
    for (const id of Object.values(ids)) await t.tx.delete(T.Chain, id, true);
    return { ...port, inboundFilterId: null, outboundFilterId: null };
  }
  await t.ensureChain(ids.inbound, `OS_PORT_${p.id}_INBOUND`, p.tenant_id);
  await t.ensureChain(ids.outbound, `OS_PORT_${p.id}_OUTBOUND`, p.tenant_id);
  await t.ensureChain(ids.antiSpoof, `OS_PORT_${p.id}_ANTI_SPOOF`, p.tenant_id);
  await t.replaceRules(ids.antiSpoof, antiSpoofRules(p));
  // From the VM: spoofing checks, replies to what it accepted, then its groups' egress rules.
  await t.replaceRules(ids.inbound, [jump(ids.antiSpoof), acceptReturn, ...p.security_groups.map((g) => jump(sgEgressChainId(g))), dropNonArp]);
  // To the VM: replies to what it started, then its groups' ingress rules.
  await t.replaceRules(ids.outbound, [acceptReturn, ...p.security_groups.map((g) => jump(sgIngressChainId(g))), dropNonArp]);
  return { ...port, inboundFilterId: ids.inbound, outboundFilterId: ids.outbound };
}

function tableEntries(t: Translation, p: NPort, set: boolean): void {
  for (const f of p.fixed_ips) (set ? t.setState(arpTableKey(p.network_id, f.ip_address), p.mac_address) : t.deleteState(arpTableKey(p.network_id, f.ip_address)));
  const mac = macTableKey(p.network_id, 0, p.mac_address, p.id);
  if (set) t.setState(mac, '');
  else t.deleteState(mac);
}

/** Keeps what the port's subnets and groups derive from their ports in step with this one. */
async function syncShared(t: Translation, p: NPort | null, old: NPort | null): Promise<void> {
  const subnets = new Set([...(old?.fixed_ips ?? []), ...(p?.fixed_ips ?? [])].map((f) => f.subnet_id));
  for (const id of subnets) await syncSubnetPort(t, id, old, p);
  await syncGroupAddresses(t, [...(old?.security_groups ?? []), ...(p?.security_groups ?? [])]);
}

export async function translatePort(t: Translation, p: NPort, old: NPort | null, net: NNetwork): Promise<void> {
  if (isBridged(p, net)) {
    const existing = await t.tx.tryGet<Port>(T.Port, p.id);
    let port = existing ?? newPort(p.id, await t.tunnelKey(), { networkId: net.id });
    port = { ...port, adminStateUp: p.admin_state_up };
    const binding = await bindingOf(t, p);
    // A port Neutron does not bind keeps what mm-ctl or the MidoNet API bound.
    if (binding) port = { ...port, ...binding };
    else if (old && interfaceOf(old)) port = { ...port, hostId: null, interfaceName: null };
    if (!existing) await t.tx.create(T.Port, port);
    port = await syncChains(t, p, port);
    // Read again: removing chains clears filters, and links or groups made by others must stay.
    await t.tx.update(T.Port, { ...(await t.tx.get<Port>(T.Port, p.id)), ...owned(port) });
    if (old) tableEntries(t, old, false);
    tableEntries(t, p, true);
  }
  await syncShared(t, p, old);
}

/** The fields this translation owns on the bridge port; the rest (links, groups) belong to others. */
const owned = (p: Port) => ({ adminStateUp: p.adminStateUp, hostId: p.hostId, interfaceName: p.interfaceName, inboundFilterId: p.inboundFilterId, outboundFilterId: p.outboundFilterId });

export async function deletePort(t: Translation, p: NPort): Promise<void> {
  await t.tx.delete(T.Port, p.id, true);
  for (const id of Object.values(portChainIds(p.id))) await t.tx.delete(T.Chain, id, true);
  tableEntries(t, p, false);
  await syncShared(t, null, p);
}
