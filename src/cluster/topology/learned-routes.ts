import { learnedRouteKey, readLearnedRoute } from '../../model/state-keys.ts';
import type { Route } from '../../model/types.ts';
import type { Store } from '../../nsdb/store.ts';

/** The routes agents have learned for a router and still hold (values that are not routes left out). */
export async function learnedRoutes(store: Store, routerId: string): Promise<Route[]> {
  const entries = await store.stateDir(learnedRouteKey(routerId));
  return entries.map(([, v]) => readLearnedRoute(routerId, v)).filter((r): r is Route => r !== null);
}
