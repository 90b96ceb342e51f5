import { randomUUID } from 'node:crypto';
import { newRoute } from '../../model/defaults.ts';
import { parseCidr } from '../../model/net.ts';
import { T, type Port, type Route } from '../../model/types.ts';
import type { Transaction } from '../../nsdb/transaction.ts';

/**
 * Keeps one LOCAL route (0.0.0.0/0 -> address/32 via the port) per router port address, as MidoNet
 * adds on router-port creation, so the router answers for its own addresses.
 */
export async function syncLocalRoutes(tx: Transaction, port: Port): Promise<void> {
  if (!port.routerId) return;
  const want = new Set(port.portSubnet.map((s) => parseCidr(s)?.address).filter((a): a is string => !!a));
  const existing = await Promise.all(port.routeIds.map((id) => tx.tryGet<Route>(T.Route, id)));
  for (const r of existing) {
    if (!r || r.type !== 'Local' || r.learned) continue;
    if (want.has(r.dstNetworkAddr) && r.dstNetworkLength === 32) want.delete(r.dstNetworkAddr);
    else await tx.delete(T.Route, r.id, true);
  }
  for (const address of want) {
    await tx.create(T.Route, newRoute(randomUUID(), port.routerId, address, 32, port.id, { type: 'Local', weight: 0 }));
  }
}
