import type { Store } from '../nsdb/store.ts';
import { arpTableKey } from '../model/state-keys.ts';
import { learnedRoutes } from './topology/learned-routes.ts';
import { T, type Chain, type Dhcp, type IpAddrGroup, type Network, type Port, type PortGroup, type Route, type Router, type Rule } from '../model/types.ts';
import type { TopologyInput } from '../simulation/topology.ts';

/** The whole virtual topology from the NSDB, with the bridges' MAC and ARP tables, for simulation. */
export async function loadTopology(store: Store): Promise<TopologyInput> {
  const [routers, networks, ports, routes, chains, rules, portGroups, ipAddrGroups, dhcps] = await Promise.all([
    store.getAll<Router>(T.Router),
    store.getAll<Network>(T.Network),
    store.getAll<Port>(T.Port),
    store.getAll<Route>(T.Route),
    store.getAll<Chain>(T.Chain),
    store.getAll<Rule>(T.Rule),
    store.getAll<PortGroup>(T.PortGroup),
    store.getAll<IpAddrGroup>(T.IpAddrGroup),
    store.getAll<Dhcp>(T.Dhcp),
  ]);
  const arpTables = new Map<string, Map<string, string>>();
  const macTables = new Map<string, { vlan: number; mac: string; port: string }[]>();
  await Promise.all(
    networks.map(async (b) => {
      const ips = await store.listState(arpTableKey(b.id));
      const macs = await Promise.all(ips.map((ip) => store.getState(arpTableKey(b.id, ip))));
      arpTables.set(b.id, new Map(ips.flatMap((ip, i) => (macs[i] ? [[ip, macs[i]] as [string, string]] : []))));
      const entries: { vlan: number; mac: string; port: string }[] = [];
      for (const vlan of await store.listState({ type: T.Network, id: b.id, key: 'mac_table' })) {
        for (const e of await store.listState({ type: T.Network, id: b.id, key: `mac_table/${vlan}` })) {
          const [mac, port] = e.split('_');
          if (mac && port) entries.push({ vlan: Number(vlan), mac, port });
        }
      }
      macTables.set(b.id, entries);
    }),
  );
  const learned = (await Promise.all(routers.map((r) => learnedRoutes(store, r.id)))).flat();
  return { routers, networks, ports, routes: [...routes, ...learned], chains, rules, portGroups, ipAddrGroups, dhcps, arpTables, macTables };
}
