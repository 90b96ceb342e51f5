/**
 * Floating IP -> a DNAT rule in its router's pre-routing chain (floating -> fixed address), an SNAT
 * rule in the router's floating-IP SNAT chain (fixed -> floating, leaving by the gateway port), and
 * an ARP entry on the external bridge answering the floating address with the gateway port's MAC.
 * Inputs: the floating IP, its router and that router's gateway port.
 */
import { derivedId } from '../ids.ts';
import { T } from '../../../model/types.ts';
import { NT, type NFloatingIp, type NPort, type NRouter } from '../../../model/neutron.ts';
import { arpTableKey } from '../../../model/state-keys.ts';
import { natTo, type Translation } from './context.ts';
import { gatewayRouterPortId, routerChainIds } from './router.ts';

const ruleIds = (fip: string) => ({ dnat: derivedId(fip, 'fip_dnat_rule'), snat: derivedId(fip, 'fip_snat_rule') });

async function disassociate(t: Translation, fip: NFloatingIp): Promise<void> {
  for (const id of Object.values(ruleIds(fip.id))) await t.tx.delete(T.Rule, id, true);
  if (fip.router_id) t.deleteState(arpTableKey(fip.floating_network_id, fip.floating_ip_address));
}

export async function translateFloatingIp(t: Translation, fip: NFloatingIp, old: NFloatingIp | null): Promise<void> {
  if (old) await disassociate(t, old);
  if (!fip.router_id || !fip.fixed_ip_address) return;
  const router = await t.tx.get<NRouter>(NT.Router, fip.router_id);
  if (!router.gw_port_id) return;
  const gwPort = await t.tx.get<NPort>(NT.Port, router.gw_port_id);
  const chains = routerChainIds(router.id);
  const ids = ruleIds(fip.id);
  await t.putRule(ids.dnat, chains.pre, { type: 'dnat', flowAction: 'accept', nwDstAddress: fip.floating_ip_address, nwDstLength: 32, natTargets: natTo(fip.fixed_ip_address) });
  await t.putRule(ids.snat, chains.floatSnat, {
    type: 'snat', flowAction: 'accept', nwSrcAddress: fip.fixed_ip_address, nwSrcLength: 32,
    outPorts: [gatewayRouterPortId(gwPort.id)], natTargets: natTo(fip.floating_ip_address),
  });
  t.setState(arpTableKey(fip.floating_network_id, fip.floating_ip_address), gwPort.mac_address);
}

export const deleteFloatingIp = disassociate;
