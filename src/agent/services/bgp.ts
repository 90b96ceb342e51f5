/**
 * The gateway's BGP: a speaker for every router port bound here whose subnet holds a peer of its
 * router, configured from the router's AS number, peers and networks; what the sessions learn is
 * published as the router's learned routes (state keys owned by this agent, so they go with it),
 * and each port's session state as its bgpStatus.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Flat } from '../../conf/hocon.ts';
import { onSubnetOf } from '../../model/net.ts';
import { learnedRouteKey, learnedRouteName } from '../../model/state-keys.ts';
import { T, type BgpNetwork, type BgpPeer, type Port, type Route, type Router } from '../../model/types.ts';
import { durationMs } from '../agent-config.ts';
import { BgpLink } from './bgp-link.ts';
import { BirdSpeaker, type PeerConf, type SpeakerConf } from './bird-speaker.ts';
import type { FrameOut } from './metadata-link.ts';
import { log } from '../../conf/log.ts';

const logger = log('bgp');

/** What the service reads and writes: the agent's topology and its cluster connection. */
export interface BgpContext {
  /** The ports bound to this host. */
  boundPorts(): Port[];
  get<X>(type: string, id: string): X | undefined;
  isLocal(portId: string): boolean;
  setState(type: string, id: string, key: string, value: string): void;
  deleteState(type: string, id: string, key: string): void;
}

interface Running {
  speaker: BirdSpeaker;
  conf: SpeakerConf;
  routerId: string;
  published: Map<string, string>;
  status: string;
}

const seconds = (v: unknown, fallback: number) => Math.round((durationMs(v) ?? fallback * 1000) / 1000);

/** A stable id for a learned route, so republishing it changes nothing. */
function routeId(router: string, name: string): string {
  const h = createHash('sha1').update(`${router}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class BgpService {
  readonly link: BgpLink;
  private readonly running = new Map<string, Running>();
  private settings: Flat = {};

  constructor(
    dp: FrameOut,
    private readonly ctx: BgpContext,
    private readonly stateDir: string,
    private readonly nsPrefix: string,
  ) {
    this.link = new BgpLink(dp);
  }

  configure(settings: Flat): void {
    this.settings = settings;
  }

  /** What a peer that sets nothing gets (mn-conf agent.midolman.bgp_*, agent.router.max_bgp_peer_routes). */
  get defaults(): { keepAlive: number; holdTime: number; connectRetry: number; maxRoutes: number } {
    const max = Number(this.settings['agent.router.max_bgp_peer_routes'] ?? 200);
    return {
      keepAlive: seconds(this.settings['agent.midolman.bgp_keepalive'], 60),
      holdTime: seconds(this.settings['agent.midolman.bgp_holdtime'], 180),
      connectRetry: seconds(this.settings['agent.midolman.bgp_connect_retry'], 120),
      maxRoutes: Number.isInteger(max) && max >= 0 ? max : 200,
    };
  }

  private peerConf(p: BgpPeer): PeerConf {
    // Per-peer timers override the agent's defaults.
    const d = this.defaults;
    const holdTime = p.holdTime ?? d.holdTime;
    const keepAlive = p.keepAlive ?? d.keepAlive;
    return {
      address: p.address,
      asNumber: p.asNumber,
      password: p.password,
      // A keepalive as long as the hold time would let sessions expire: a third of it then.
      keepAlive: keepAlive < holdTime ? keepAlive : Math.max(1, Math.floor(holdTime / 3)),
      holdTime,
      connectRetry: p.connectRetry ?? d.connectRetry,
    };
  }

  /** What each local router port should run, from the topology. */
  private wanted(): Map<string, { port: Port; conf: SpeakerConf }> {
    const out = new Map<string, { port: Port; conf: SpeakerConf }>();
    for (const port of this.ctx.boundPorts()) {
      if (!port.routerId || !port.portMac || !this.ctx.isLocal(port.id)) continue;
      const router = this.ctx.get<Router>(T.Router, port.routerId);
      const cidr = port.portSubnet[0];
      if (!router?.asNumber || !cidr) continue;
      const peers = router.bgpPeerIds.map((id) => this.ctx.get<BgpPeer>(T.BgpPeer, id)).filter((p): p is BgpPeer => p !== undefined);
      const networks = router.bgpNetworkIds.map((id) => this.ctx.get<BgpNetwork>(T.BgpNetwork, id)).filter((n): n is BgpNetwork => n !== undefined);
      const mine = peers.filter((p) => onSubnetOf(cidr, p.address)).sort((a, b) => a.address.localeCompare(b.address));
      if (mine.length === 0) continue;
      out.set(port.id, {
        port,
        conf: {
          routerId: router.id,
          localAddress: cidr.split('/')[0]!,
          asNumber: router.asNumber,
          networks: networks.map((n) => `${n.subnetAddress}/${n.subnetLength}`).sort(),
          peers: mine.map((p) => this.peerConf(p)),
        },
      });
    }
    return out;
  }

  private syncing: Promise<void> = Promise.resolve();

  /** Starts, reconfigures and stops speakers to match the topology (one pass at a time). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce());
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const want = this.wanted();
    for (const [portId, r] of [...this.running]) if (!want.has(portId)) await this.stopOne(portId, r);
    for (const [portId, { port, conf }] of want) {
      let r = this.running.get(portId);
      if (!r) {
        const ns = `${this.nsPrefix}${this.running.size}-${portId.slice(0, 8)}`;
        await this.link.plumb(portId, ns, port.portSubnet[0]!, port.portMac!);
        r = { speaker: new BirdSpeaker(ns, join(this.stateDir, `bgp-${portId}`)), conf, routerId: conf.routerId, published: new Map(), status: '' };
        this.running.set(portId, r);
      }
      r.conf = conf;
      try {
        await r.speaker.apply(conf);
      } catch (err) {
        logger.error({ port: portId, err: (err as Error).message }, 'BGP speaker failed');
      }
    }
  }

  /** Publishes what each speaker learned and its sessions' state. */
  async poll(): Promise<void> {
    for (const [portId, r] of this.running) {
      const status = await r.speaker.status(r.conf.peers);
      if (status !== r.status) {
        logger.info({ port: portId, router: r.routerId, status }, 'BGP session state changed');
        this.ctx.setState(T.Port, portId, 'bgp', (r.status = status));
      }
      const now = new Map<string, string>();
      // agent.router.max_bgp_peer_routes: what a speaker learns beyond it is not published.
      for (const l of (await r.speaker.learned()).slice(0, this.defaults.maxRoutes)) {
        const name = learnedRouteName(portId, l.dst, l.length);
        const route: Route = {
          id: routeId(r.routerId, name), routerId: r.routerId, nextHopPortId: portId, srcNetworkAddr: '0.0.0.0', srcNetworkLength: 0,
          dstNetworkAddr: l.dst, dstNetworkLength: l.length, nextHopGateway: l.gateway, weight: 100, attributes: null, type: 'Normal', learned: true,
        };
        now.set(name, JSON.stringify(route));
      }
      for (const [name, json] of now) if (r.published.get(name) !== json) this.ctx.setState(T.Router, r.routerId, learnedRouteKey(r.routerId, name).key, json);
      for (const name of r.published.keys()) if (!now.has(name)) this.ctx.deleteState(T.Router, r.routerId, learnedRouteKey(r.routerId, name).key);
      r.published = now;
    }
  }

  private async stopOne(portId: string, r: Running): Promise<void> {
    this.running.delete(portId);
    r.speaker.stop();
    for (const name of r.published.keys()) this.ctx.deleteState(T.Router, r.routerId, learnedRouteKey(r.routerId, name).key);
    this.ctx.deleteState(T.Port, portId, 'bgp');
    await this.link.unplumb(portId);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running].map(([portId, r]) => this.stopOne(portId, r)));
  }

  get counters() {
    const running = [...this.running.values()];
    return {
      speakers: running.length,
      // A status is "<peer> <state>" per peer, joined by "; ".
      established: running.reduce((n, r) => n + r.status.split('; ').filter((s) => s.includes('Established')).length, 0),
      learned: running.reduce((n, r) => n + r.published.size, 0),
    };
  }
}
