/**
 * The first cache a frame meets: its raw header bytes (in port, MACs, IPv4 addresses, TOS, TTL,
 * protocol, ports or ICMP echo type and id) -> a flow that sends it out unchanged through one
 * port. A hit needs no parse and no match; the frame goes out as it came. Frames it cannot key
 * safely (VLAN tags, IP options, fragments, ICMP errors, non-IPv4) take the parsed path.
 */
import type { Flow } from './flow-table.ts';

const ETH_IPV4 = 0x0800;

export class RawHeaderCache {
  private readonly entries = new Map<string, Flow>();
  private readonly ports = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  private portIndex(id: string): number {
    let i = this.ports.get(id);
    if (i === undefined) this.ports.set(id, (i = this.ports.size + 1));
    return i;
  }

  /** The frame's key, or null when only the parsed path may decide for it. */
  key(portId: string, b: Uint8Array): string | null {
    if (b.length < 42 || ((b[12]! << 8) | b[13]!) !== ETH_IPV4 || b[14] !== 0x45 || (b[20]! & 0x3f) !== 0 || b[21] !== 0) return null;
    const proto = b[23]!;
    let l4a: number;
    let l4b: number;
    if (proto === 6 || proto === 17) {
      l4a = (b[34]! << 8) | b[35]!;
      l4b = (b[36]! << 8) | b[37]!;
    } else if (proto === 1 && (b[34] === 8 || b[34] === 0)) {
      l4a = (b[34]! << 8) | b[35]!;
      l4b = (b[38]! << 8) | b[39]!;
    } else return null;
    return String.fromCharCode(
      this.portIndex(portId),
      (b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!, (b[4]! << 8) | b[5]!,
      (b[6]! << 8) | b[7]!, (b[8]! << 8) | b[9]!, (b[10]! << 8) | b[11]!,
      (b[15]! << 8) | b[22]!, proto,
      (b[26]! << 8) | b[27]!, (b[28]! << 8) | b[29]!, (b[30]! << 8) | b[31]!, (b[32]! << 8) | b[33]!,
      l4a, l4b,
    );
  }

  get(key: string): Flow | undefined {
    return this.entries.get(key);
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Remembers a flow for frames with this key, if it sends them out unchanged through one port. */
  remember(key: string, flow: Flow): void {
    const outputs = flow.actions.outputs;
    if (outputs.length !== 1) return;
    for (const _ in outputs[0]!.rewrites) return;
    // Entries of dead flows are dropped as they are met; a full cache starts again.
    if (this.entries.size >= this.capacity) this.entries.clear();
    this.entries.set(key, flow);
  }

  get size(): number {
    return this.entries.size;
  }
}
