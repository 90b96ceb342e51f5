import type { Datapath, DatapathHandlers } from './datapath.ts';

/**
 * A datapath with no interfaces (`midolman --datapath none`): ports bind to nothing, frames come
 * only from `inject` and leave only as counts. It runs the agent's topology, simulation and flow
 * code for benchmarks with many agents on one machine.
 */
export class NullDatapath implements Datapath {
  private readonly bound = new Set<string>();
  readonly counters = { rxFrames: 0, txFrames: 0, tunnelTx: 0 };

  constructor(private readonly h: DatapathHandlers) {}

  hasPort(portId: string): boolean {
    return this.bound.has(portId);
  }

  ports(): string[] {
    return [...this.bound];
  }

  addPort(portId: string): void {
    this.bound.add(portId);
  }

  removePort(portId: string): void {
    this.bound.delete(portId);
  }

  output(portId: string): boolean {
    if (!this.bound.has(portId)) return false;
    this.counters.txFrames++;
    return true;
  }

  tunnel(): void {
    this.counters.tunnelTx++;
  }

  /** A frame as if it arrived on a bound port. */
  inject(portId: string, bytes: Uint8Array): void {
    this.counters.rxFrames++;
    this.h.frame(portId, bytes);
    this.h.batchDone();
  }

  flush(): void {}

  async close(): Promise<void> {
    this.bound.clear();
  }
}
