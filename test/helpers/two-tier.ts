import type { Network, Port, Router } from '../../src/model/types.ts';
import { TopoBuilder, type Ip4Spec } from './topology.ts';

/**
 * The usual tenant layout: two bridges (10.0.0.0/24 with vm1, vm2; 10.0.1.0/24 with vm3) behind
 * one router that also has an uplink port 172.16.0.1/24 with a default route to 172.16.0.254.
 */
export interface TwoTier {
  t: TopoBuilder;
  b1: Network;
  b2: Network;
  r: Router;
  vm1: Port;
  vm2: Port;
  vm3: Port;
  rp1: Port;
  rp2: Port;
  uplink: Port;
  mac: Record<'vm1' | 'vm2' | 'vm3' | 'rp1' | 'rp2' | 'uplink' | 'gw', string>;
  /** Addressing for a packet from vm1 to the router. */
  fromVm1(dst: string, o?: Partial<Ip4Spec>): Ip4Spec;
}

export function twoTier(): TwoTier {
  const t = new TopoBuilder();
  const mac = {
    vm1: '02:aa:00:00:00:05', vm2: '02:aa:00:00:00:06', vm3: '02:bb:00:00:00:05',
    rp1: '02:00:00:00:00:01', rp2: '02:00:00:00:01:01', uplink: '02:00:00:00:02:01', gw: '02:ee:00:00:00:fe',
  };
  const b1 = t.bridge('b1');
  const b2 = t.bridge('b2');
  const r = t.router('r');
  const vm1 = t.bridgePort(b1);
  const vm2 = t.bridgePort(b1);
  const vm3 = t.bridgePort(b2);
  const rp1 = t.routerPort(r, '10.0.0.1/24', mac.rp1);
  const rp2 = t.routerPort(r, '10.0.1.1/24', mac.rp2);
  const uplink = t.routerPort(r, '172.16.0.1/24', mac.uplink);
  t.link(rp1, t.bridgePort(b1));
  t.link(rp2, t.bridgePort(b2));
  t.route(r, { dst: '10.0.0.0/24', port: rp1 });
  t.route(r, { dst: '10.0.1.0/24', port: rp2 });
  t.route(r, { dst: '172.16.0.0/24', port: uplink });
  t.route(r, { dst: '0.0.0.0/0', port: uplink, gw: '172.16.0.254' });
  t.arpEntry(b2, '10.0.1.5', mac.vm3);
  return {
    t, b1, b2, r, vm1, vm2, vm3, rp1, rp2, uplink, mac,
    fromVm1: (dst, o = {}) => ({ srcMac: mac.vm1, dstMac: mac.rp1, src: '10.0.0.5', dst, ...o }),
  };
}
