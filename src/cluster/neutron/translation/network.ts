/**
 * Network -> bridge (same id). Inputs: the Neutron network. An uplink network has no bridge: its
 * ports become router ports bound to host interfaces (router-interface.ts).
 */
import { newBridge } from '../../../model/defaults.ts';
import { T, type Network } from '../../../model/types.ts';
import { isUplink, type NNetwork } from '../../../model/neutron.ts';
import type { Translation } from './context.ts';

export async function translateNetwork(t: Translation, n: NNetwork, old: NNetwork | null): Promise<void> {
  if (isUplink(n)) return;
  const fields = { name: n.name, tenantId: n.tenant_id, adminStateUp: n.admin_state_up };
  if (!old) {
    await t.tx.create(T.Network, newBridge(n.id, fields));
    return;
  }
  const bridge = await t.tx.get<Network>(T.Network, n.id);
  await t.tx.update(T.Network, { ...bridge, ...fields });
}

/** Deletes the bridge; its ports and DHCP subnets go with it. */
export async function deleteNetwork(t: Translation, n: NNetwork): Promise<void> {
  await t.tx.delete(T.Network, n.id, true);
}
