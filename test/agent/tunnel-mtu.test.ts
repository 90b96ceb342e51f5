import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tunnelMtu } from '../../src/agent/tunnel-mtu.ts';
import type { HostInterface, TunnelZone } from '../../src/model/types.ts';

const nic = (name: string, mtu: number, addresses: string[]): HostInterface => ({ name, mac: null, mtu, type: 'Physical', endpoint: 'DATAPATH', portType: null, addresses, status: 3 });
const zone = (type: TunnelZone['type'], address: string): TunnelZone => ({ id: type, name: type, type, hostIds: ['me', 'peer'], hostAddresses: { me: address, peer: '192.0.2.99' } });

describe("the tunnel MTU DHCP offers no more than", () => {
  it("is the underlay interface's MTU less the encapsulation, the smallest over the host's zones", () => {
    const nics = [nic('eth0', 1500, ['192.0.2.1']), nic('eth1', 9000, ['198.51.100.1'])];
    assert.equal(tunnelMtu([zone('vxlan', '192.0.2.1')], 'me', nics), 1450);
    assert.equal(tunnelMtu([zone('gre', '192.0.2.1')], 'me', nics), 1458);
    assert.equal(tunnelMtu([zone('vxlan', '198.51.100.1')], 'me', nics), 8950);
    assert.equal(tunnelMtu([zone('vxlan', '198.51.100.1'), zone('gre', '192.0.2.1')], 'me', nics), 1458);
  });

  it('is unknown outside any zone, for VTEP zones, or when the address is on no interface here', () => {
    const nics = [nic('eth0', 1500, ['192.0.2.1'])];
    assert.equal(tunnelMtu([], 'me', nics), null);
    assert.equal(tunnelMtu([zone('vtep', '192.0.2.1')], 'me', nics), null);
    assert.equal(tunnelMtu([zone('vxlan', '203.0.113.7')], 'me', nics), null);
  });
});
