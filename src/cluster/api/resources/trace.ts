import { NotYet } from '../../../simulation/context.ts';
import { SimState } from '../../../simulation/state.ts';
import { SnapshotTopology } from '../../../simulation/topology.ts';
import { trace, TraceInputError, type PacketDescription } from '../../../simulation/trace.ts';
import { int, oneOf, str, uuid } from '../../../model/validation.ts';
import { loadTopology } from '../../topology-snapshot.ts';
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
 * Seeds routers' ARP caches with what their bridges know (ARP tables, linked router ports), so a
 * trace from the cluster, which has no agent's ARP cache, still shows the full path.
 */
function seedArp(topo: SnapshotTopology, state: SimState, routerPortIds: string[], now: number): void {
  for (const id of routerPortIds) {
    const rp = topo.port(id);
    if (!rp.peerId) continue;
    const peer = topo.port(rp.peerId);
    if (peer.kind !== 'bridge') continue;
    const b = topo.bridge(peer.deviceId);
    for (const [ip, mac] of [...b.arpTable, ...b.routerIpToMac]) state.arp.learn(rp.deviceId, ip, mac, now);
  }
}

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
          const input = await loadTopology(ctx.store);
          const topo = new SnapshotTopology(input);
          const state = new SimState();
          const now = Date.now();
          try {
            seedArp(topo, state, input.ports.filter((p) => p.routerId).map((p) => p.id), now);
            return ok(trace(desc, topo, state, now));
          } catch (err) {
            if (err instanceof TraceInputError) throw new ApiError(400, err.message);
            if (err instanceof NotYet) throw new ApiError(404, `${err.type} ${err.id} not found`);
            throw err;
          }
        },
      },
    },
  ];
}
