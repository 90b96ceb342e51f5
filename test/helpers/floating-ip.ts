import type { ApiFixture } from './api.ts';

/** A tenant router with a floating IP 172.16.0.50 for vm 10.0.1.5, built through the MidoNet API. */
export async function floatingIpTopology(api: ApiFixture) {
  const r = await api.create('/routers', { name: 'tenant-router' });
  const b = await api.create('/bridges', { name: 'tenant-net' });
  const uplink = await api.create(`/routers/${r}/ports`, { type: 'Router', portAddress: '172.16.0.1', networkLength: 24, portMac: '02:00:00:00:02:01' });
  const rp = await api.create(`/routers/${r}/ports`, { type: 'Router', portAddress: '10.0.1.1', networkLength: 24, portMac: '02:00:00:00:01:01' });
  const bp = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
  const vm = await api.create(`/bridges/${b}/ports`, { type: 'Bridge' });
  await api.req('POST', `/ports/${rp}/link`, { body: { peerId: bp } });
  await api.create(`/bridges/${b}/arp_table`, { ip: '10.0.1.5', mac: '02:bb:00:00:00:05' });
  await api.create(`/bridges/${b}/mac_table`, { macAddr: '02:bb:00:00:00:05', portId: vm });
  const route = (dst: string, len: number, port: string) => ({ type: 'Normal', srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0, dstNetworkAddr: dst, dstNetworkLength: len, nextHopPort: port, weight: 100 });
  await api.create(`/routers/${r}/routes`, route('10.0.1.0', 24, rp));
  await api.create(`/routers/${r}/routes`, route('172.16.0.0', 24, uplink));
  const pre = await api.create('/chains', { name: 'pre-routing' });
  const post = await api.create('/chains', { name: 'post-routing' });
  await api.create(`/chains/${pre}/rules`, { type: 'dnat', flowAction: 'accept', nwDstAddress: '172.16.0.50', nwDstLength: 32, natTargets: [{ addressFrom: '10.0.1.5', addressTo: '10.0.1.5', portFrom: 0, portTo: 0 }] });
  await api.create(`/chains/${post}/rules`, { type: 'snat', flowAction: 'accept', nwSrcAddress: '10.0.1.5', nwSrcLength: 32, outPorts: [uplink], natTargets: [{ addressFrom: '172.16.0.50', addressTo: '172.16.0.50', portFrom: 0, portTo: 0 }] });
  const got = (await api.req('GET', `/routers/${r}`)).json;
  await api.req('PUT', `/routers/${r}`, { body: { ...got, inboundFilterId: pre, outboundFilterId: post } });
  return { uplink, vm };
}
