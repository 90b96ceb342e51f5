import { T, type Router } from '../../../model/types.ts';
import { NT, type NPort } from '../../../model/neutron.ts';
import { NotYet } from '../../../simulation/context.ts';
import { SimState } from '../../../simulation/state.ts';
import { DeviceMissing, VirtualTopology } from '../../../simulation/topology.ts';
import { trace, TraceInputError, type PacketDescription } from '../../../simulation/trace.ts';
import { int, oneOf, str, uuid } from '../../../model/validation.ts';
import { StoreSource } from '../../topology-loader.ts';
import { ApiError } from '../errors.ts';
import { ok, type Route } from '../http.ts';
import { mediaOf, readBody } from './common.ts';

/** The trace resource's own media type (not one of MidoNet's: MidoNet had no packet tracer API). */
export const PACKET_TRACE = { name: 'PacketTrace', versions: [1] };

const fields = {
  inPort: uuid(true),
  ethSrc: str(),
  ethDst: str(),
  vlan: int({ min: 0, max: 4095 }),
  srcIp: str(),
  dstIp: str(),
  proto: str(),
  srcPort: int({ min: 0, max: 65535 }),
  dstPort: int({ min: 0, max: 65535 }),
  ttl: int({ min: 0, max: 255 }),
  tcpFlags: str(),
  icmpType: int({ min: 0, max: 255 }),
  icmpCode: int({ min: 0, max: 255 }),
  fragment: oneOf(['none', 'first', 'later']),
};

/**
 * What a router would learn by ARP for `ip`, from what the bridge on that subnet knows (its ARP
 * table, linked router ports), since a trace from the cluster has no agent's ARP cache.
 */
function arpFromBridges(topo: VirtualTopology, src: StoreSource, router: string, ip: number): number | null {
  for (const pid of src.object<Router>(T.Router, router)?.portIds ?? []) {
    const rp = topo.port(pid);
    if (!rp.peerId || !rp.addrs.some((a) => a.len > 0 && (a.ip ^ ip) >>> (32 - a.len) === 0)) continue;
    const peer = topo.port(rp.peerId);
    if (peer.kind !== 'bridge') continue;
    const b = topo.bridge(peer.deviceId);
    const mac = b.arpTable.get(ip) ?? b.routerIpToMac.get(ip);
    if (mac !== undefined) return mac;
  }
  return null;
}

/** Loads and simulates again at most this many times (each time the packet reached something new). */
const MAX_LOADS = 500;

/** POST /trace: simulate a described packet through the topology in the NSDB, with the agent's code. */
export function traceRoutes(): Route[] {
  return [
    {
      path: '/trace',
      post: {
        media: mediaOf(PACKET_TRACE).write,
        handle: async (ctx) => {
          const v = readBody(ctx, fields);
          const desc = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) as unknown as PacketDescription;
          if (typeof desc.proto === 'string' && /^\d+$/.test(desc.proto)) desc.proto = Number(desc.proto);
          // From a Neutron VM port, the packet is the VM's: its MAC and address, or anti-spoofing drops it.
          const vm = await ctx.store.tryGet<NPort>(NT.Port, desc.inPort);
          if (vm) {
            desc.ethSrc ??= vm.mac_address;
            desc.srcIp ??= vm.fixed_ips[0]?.ip_address;
          }
          // Only what the packet reaches is read: simulate, load what it lacked, simulate again.
          const src = new StoreSource(ctx.store);
          const topo = new VirtualTopology(src);
          const learned: [string, number, number][] = [];
          const now = Date.now();
          for (let i = 0; i < MAX_LOADS; i++) {
            try {
              const state = new SimState();
              for (const [router, ip, mac] of learned) state.arp.learn(router, ip, mac, now);
              const { report, result } = trace(desc, topo, state, now);
              if (result.action === 'notYet') {
                await src.loadWanted();
                continue;
              }
              const wait = result.parkedOn;
              const mac = wait && !learned.some(([r, ip]) => r === wait.router && ip === wait.ip) ? arpFromBridges(topo, src, wait.router, wait.ip) : null;
              if (wait && mac !== null) {
                learned.push([wait.router, wait.ip, mac]);
                continue;
              }
              return ok(report);
            } catch (err) {
              if (err instanceof NotYet) await src.loadWanted();
              else if (err instanceof TraceInputError) throw new ApiError(400, err.message);
              else if (err instanceof DeviceMissing) throw new ApiError(404, `${err.type} ${err.id} not found`);
              else throw err;
            }
          }
          throw new ApiError(409, 'The packet reaches more of the topology than a trace may load');
        },
      },
    },
  ];
}
