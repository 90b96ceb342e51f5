/**
 * Security group -> two chains (OS_SG_<id>_INGRESS, OS_SG_<id>_EGRESS) that the member ports' chains
 * jump to, and an IP address group (same id) holding the members' addresses for rules that name
 * the group as remote. Inputs: the group and the ports that are members.
 */
import { T, type IpAddrGroup } from '../../../model/types.ts';
import { derivedId } from '../ids.ts';
import type { NPort, NSecurityGroup } from '../../../model/neutron.ts';
import { IX } from '../../../model/indexes.ts';
import { indexKey } from '../../../nsdb/indexes.ts';
import type { Translation } from './context.ts';

export const sgIngressChainId = (sg: string) => derivedId(sg, 'sg_ingress_chain');
export const sgEgressChainId = (sg: string) => derivedId(sg, 'sg_egress_chain');

export async function translateSecurityGroup(t: Translation, sg: NSecurityGroup, old: NSecurityGroup | null): Promise<void> {
  if (old) {
    const group = await t.tx.get<IpAddrGroup>(T.IpAddrGroup, sg.id);
    await t.tx.update(T.IpAddrGroup, { ...group, name: sg.name });
    return;
  }
  await t.ensureChain(sgIngressChainId(sg.id), `OS_SG_${sg.id}_INGRESS`, sg.tenant_id);
  await t.ensureChain(sgEgressChainId(sg.id), `OS_SG_${sg.id}_EGRESS`, sg.tenant_id);
  await t.tx.create(T.IpAddrGroup, { id: sg.id, name: sg.name, addresses: [], inboundChainId: null, outboundChainId: null, ruleIds: [] } satisfies IpAddrGroup);
}

export async function deleteSecurityGroup(t: Translation, sg: NSecurityGroup): Promise<void> {
  await t.tx.delete(T.Chain, sgIngressChainId(sg.id), true);
  await t.tx.delete(T.Chain, sgEgressChainId(sg.id), true);
  await t.tx.delete(T.IpAddrGroup, sg.id, true);
}

/** Makes each group's address set the fixed IPs of the ports now in it. */
export async function syncGroupAddresses(t: Translation, groups: Iterable<string>): Promise<void> {
  for (const id of new Set(groups)) {
    const group = await t.tx.tryGet<IpAddrGroup>(T.IpAddrGroup, id);
    if (!group) continue;
    const ports = await t.tx.find<NPort>(IX.portsBySecurityGroup, indexKey(id));
    const addresses = [...new Set(ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address)))].sort();
    if (addresses.join() !== group.addresses.join()) await t.tx.update(T.IpAddrGroup, { ...group, addresses });
  }
}
