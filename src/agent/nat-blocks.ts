import { NotYet } from '../simulation/context.ts';
import type { NatBlockAllocator } from '../simulation/state.ts';
import { NAT_BLOCK_TYPE } from '../model/topology-protocol.ts';
import type { ClusterClient } from './cluster-client.ts';

/** How long a block another host holds is not asked for again. */
const TAKEN_MS = 30_000;

/**
 * NAT port blocks leased cluster-wide, as MidoNet's NatBlockAllocator does with ZooKeeper: a
 * block of 64 ports of an address is this host's while its lease (a state key owned by its
 * topology session) stands, so no two hosts ever hand out the same (address, port). A lease goes
 * when the agent dies or gives the block back. The simulation asks synchronously: an unknown block
 * is claimed in the background and the packet waits for the answer (NotYet).
 */
export class ClusterBlockAllocator implements NatBlockAllocator {
  private readonly held = new Set<string>();
  private readonly pending = new Set<string>();
  private readonly taken = new Map<string, number>();
  readonly counters = { claimed: 0, refused: 0, released: 0 };

  constructor(
    private readonly client: ClusterClient,
    private readonly hostId: string,
    /** Tells the packets waiting for a block that its answer came. */
    private readonly answered: (type: string, id: string) => void,
  ) {}

  lease(device: string, ip: number, block: number): boolean {
    const id = `${device}/${ip}/${block}`;
    if (this.held.has(id)) return true;
    if ((this.taken.get(id) ?? 0) > Date.now()) return false;
    if (!this.pending.has(id)) {
      this.pending.add(id);
      void this.client.claimState(NAT_BLOCK_TYPE, device, `${ip}/${block}`, this.hostId).then((granted) => {
        this.pending.delete(id);
        if (granted) {
          this.held.add(id);
          this.counters.claimed++;
        } else {
          this.taken.set(id, Date.now() + TAKEN_MS);
          this.counters.refused++;
        }
        this.answered(NAT_BLOCK_TYPE, id);
      });
    }
    throw new NotYet(NAT_BLOCK_TYPE, id);
  }

  release(device: string, ip: number, block: number): void {
    if (!this.held.delete(`${device}/${ip}/${block}`)) return;
    this.counters.released++;
    this.client.deleteState(NAT_BLOCK_TYPE, device, `${ip}/${block}`);
  }
}
