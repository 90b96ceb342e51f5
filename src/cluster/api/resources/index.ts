import type { Route } from '../http.ts';
import { neutronPluginRoutes } from '../../neutron/midonet-front.ts';
import { confRoutes } from './conf.ts';
import { bridgeRoutes, chainRoutes, portGroupRoutes, routerRoutes } from './devices.ts';
import { dhcpRoutes } from './dhcp.ts';
import { hostRoutes } from './hosts.ts';
import { portRoutes } from './ports.ts';
import { rootRoutes } from './root.ts';
import { routeRoutes } from './routes.ts';
import { ruleRoutes } from './rules.ts';
import { tableRoutes } from './tables.ts';
import { traceRoutes } from './trace.ts';
import { tunnelZoneRoutes } from './tunnel-zones.ts';

/** Every route of the MidoNet v5 API, relative to /midonet-api. */
export function allRoutes(): Route[] {
  return [
    ...rootRoutes(),
    ...routerRoutes(),
    ...bridgeRoutes(),
    ...chainRoutes(),
    ...portGroupRoutes(),
    ...portRoutes(),
    ...routeRoutes(),
    ...ruleRoutes(),
    ...hostRoutes(),
    ...tunnelZoneRoutes(),
    ...dhcpRoutes(),
    ...tableRoutes(),
    ...traceRoutes(),
    ...confRoutes(),
    ...neutronPluginRoutes(),
  ];
}
