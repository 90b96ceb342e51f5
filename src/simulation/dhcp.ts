import { BROADCAST_MAC, macToString } from '../packets/bytes.ts';
import {
  BOOTREPLY,
  BOOTREQUEST,
  buildDhcp,
  DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST,
  DHCP_SERVER_PORT,
  dhcpOption,
  DhcpMsg,
  ipsBytes,
  OPT,
  parseDhcp,
  u16Bytes,
  u32Bytes,
  type DhcpOption,
} from '../packets/dhcp.ts';
import { ETH_IPV4, PROTO_UDP, type Ethernet } from '../packets/types.ts';
import { ipToInt, maskOf } from '../model/net.ts';
import type { Dhcp, DhcpHost } from '../model/types.ts';
import type { PacketContext } from './context.ts';
import type { SimBridge } from './topology.ts';

/** Source MAC of DHCP answers when no router port owns the server address. */
export const DHCP_SERVER_MAC = 0xaccaba000001;

const NAMED_OPTIONS: Record<string, number> = {
  'subnet-mask': 1, router: 3, 'dns-server': 6, 'domain-name-servers': 6, hostname: 12, 'host-name': 12,
  'domain-name': 15, mtu: 26, 'interface-mtu': 26, 'ntp-server': 42, 'tftp-server': 66, bootfile: 67, 'bootfile-name': 67,
};
const IP_LIST_OPTIONS = new Set([1, 3, 6, 42]);

function extraOption(name: string, value: string): DhcpOption | null {
  const code = /^\d+$/.test(name) ? Number(name) : NAMED_OPTIONS[name.toLowerCase()];
  if (code === undefined || code < 1 || code > 254) return null;
  if (IP_LIST_OPTIONS.has(code)) return { code, data: ipsBytes(value.split(',').map((s) => ipToInt(s.trim()))) };
  if (code === 26) return { code, data: u16Bytes(Number(value)) };
  return { code, data: new TextEncoder().encode(value) };
}

/** RFC 3442 classless static routes. */
function classlessRoutes(routes: { dst: number; len: number; gw: number }[]): Uint8Array {
  const out: number[] = [];
  for (const r of routes) {
    out.push(r.len);
    const octets = Math.ceil(r.len / 8);
    for (let i = 0; i < octets; i++) out.push((r.dst >>> (24 - 8 * i)) & 255);
    out.push(...u32Bytes(r.gw));
  }
  return new Uint8Array(out);
}

function findHost(bridge: SimBridge, mac: number): { subnet: Dhcp; host: DhcpHost } | null {
  const want = macToString(mac);
  for (const subnet of bridge.dhcp) {
    const host = subnet.hosts.find((h) => h.macAddr.toLowerCase() === want);
    if (host) return { subnet, host };
  }
  return null;
}

/**
 * Answers a DHCP request from the bridge's DHCP configuration, as MidoNet's agent does: the
 * reply, or null when the frame is not a DHCP request this bridge knows the client of.
 */
export function dhcpReply(ctx: PacketContext, bridge: SimBridge): Ethernet | 'ignored' | null {
  const frame = ctx.frame;
  if (!frame || frame.payload.kind !== 'ipv4' || frame.payload.payload.kind !== 'udp') return null;
  const udp = frame.payload.payload;
  if (udp.srcPort !== DHCP_CLIENT_PORT || udp.dstPort !== DHCP_SERVER_PORT) return null;
  const parsed = parseDhcp(udp.payload);
  if (!parsed.ok || parsed.value.op !== BOOTREQUEST) return null;
  const req = parsed.value;
  const found = findHost(bridge, req.chaddr);
  if (!found) return null;
  const { subnet, host } = found;
  const msg = dhcpOption(req, OPT.messageType)?.[0];
  const yiaddr = ipToInt(host.ipAddr);
  let type: DhcpMsg;
  if (msg === DhcpMsg.Discover) type = DhcpMsg.Offer;
  else if (msg === DhcpMsg.Request) {
    const asked = dhcpOption(req, OPT.requestedIp);
    const wanted = asked && asked.length === 4 ? ((asked[0]! << 24) | (asked[1]! << 16) | (asked[2]! << 8) | asked[3]!) >>> 0 : req.ciaddr;
    type = wanted === 0 || wanted === yiaddr ? DhcpMsg.Ack : DhcpMsg.Nak;
  } else if (msg === DhcpMsg.Inform) type = DhcpMsg.Ack;
  else return 'ignored';

  const gateway = subnet.defaultGateway ? ipToInt(subnet.defaultGateway) : 0;
  const server = subnet.serverAddr ? ipToInt(subnet.serverAddr) : gateway || (ipToInt(subnet.subnetAddress) + 1) >>> 0;
  const serverMac = bridge.routerIpToMac.get(server) ?? bridge.routerIpToMac.get(gateway) ?? DHCP_SERVER_MAC;
  const mask = maskOf(subnet.subnetLength);
  const options: DhcpOption[] = [
    { code: OPT.messageType, data: new Uint8Array([type]) },
    { code: OPT.serverId, data: u32Bytes(server) },
  ];
  if (type !== DhcpMsg.Nak) {
    const lease = ctx.state.config.dhcpLeaseSeconds;
    if (msg !== DhcpMsg.Inform) {
      options.push({ code: OPT.leaseTime, data: u32Bytes(lease) });
      options.push({ code: OPT.renewalTime, data: u32Bytes(Math.floor(lease / 2)) });
      options.push({ code: OPT.rebindingTime, data: u32Bytes(Math.floor((lease * 7) / 8)) });
    }
    options.push({ code: OPT.subnetMask, data: u32Bytes(mask) });
    if (gateway) options.push({ code: OPT.router, data: u32Bytes(gateway) });
    if (subnet.dnsServerAddrs?.length) options.push({ code: OPT.dns, data: ipsBytes(subnet.dnsServerAddrs.map(ipToInt)) });
    const { dhcpMtu, tunnelMtu } = ctx.state.config;
    // MidoNet's rule: a frame the VM sends at this size still crosses the underlay unfragmented.
    options.push({ code: OPT.mtu, data: u16Bytes(Math.min(subnet.interfaceMtu || dhcpMtu, tunnelMtu ?? Infinity)) });
    if (host.name) options.push({ code: OPT.hostName, data: new TextEncoder().encode(host.name) });
    if (subnet.opt121Routes.length > 0) {
      // Clients honouring option 121 ignore the router option: repeat the default route in it.
      const routes = subnet.opt121Routes.map((r) => ({ dst: ipToInt(r.destinationPrefix), len: r.destinationLength, gw: ipToInt(r.gatewayAddr) }));
      if (gateway && !routes.some((r) => r.len === 0)) routes.push({ dst: 0, len: 0, gw: gateway });
      options.push({ code: OPT.classlessRoutes, data: classlessRoutes(routes) });
    }
    for (const o of host.extraDhcpOpts) {
      const opt = extraOption(o.optName, o.optValue);
      if (!opt) continue;
      // An extra option given for the port overrides the subnet's.
      const i = options.findIndex((x) => x.code === opt.code);
      if (i >= 0) options[i] = opt;
      else options.push(opt);
    }
  }
  const broadcast = (req.flags & DHCP_FLAG_BROADCAST) !== 0 || type === DhcpMsg.Nak;
  const reply = buildDhcp({
    op: BOOTREPLY, htype: 1, hlen: 6, hops: 0, xid: req.xid, secs: 0, flags: req.flags,
    ciaddr: req.ciaddr, yiaddr: type === DhcpMsg.Ack || type === DhcpMsg.Offer ? (msg === DhcpMsg.Inform ? 0 : yiaddr) : 0,
    siaddr: server, giaddr: req.giaddr, chaddr: req.chaddr, options,
  });
  if (ctx.trace) ctx.log('dhcp', subnet.id, `${DhcpMsg[type]} ${host.ipAddr} to ${host.macAddr}`);
  return {
    dst: broadcast ? BROADCAST_MAC : req.chaddr,
    src: serverMac,
    vlans: [],
    etherType: ETH_IPV4,
    payload: {
      kind: 'ipv4', tos: 0, id: 0, df: false, mf: false, fragOffset: 0, ttl: 64, protocol: PROTO_UDP,
      src: server, dst: broadcast ? 0xffffffff : msg === DhcpMsg.Inform ? req.ciaddr : yiaddr, options: new Uint8Array(0),
      payload: { kind: 'udp', srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: reply },
    },
  };
}
