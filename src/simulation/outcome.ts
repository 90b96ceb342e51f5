import type { FlowMatch } from './flow-match.ts';

/** A frame leaving the virtual topology at an exterior port, with its headers at that point. */
export interface Output {
  portId: string;
  match: FlowMatch;
}

/** Where a device sends the packet next, as the devices return it up the call chain. */
export type Outcome =
  | { kind: 'drop'; reason: string }
  | { kind: 'consume'; reason: string }
  | { kind: 'out'; outputs: Output[] }
  /** Waiting for an ARP reply from `ip` on behalf of `router`: simulate again when it comes. */
  | { kind: 'parked'; router: string; ip: number };

export const drop = (reason: string): Outcome => ({ kind: 'drop', reason });
export const consume = (reason: string): Outcome => ({ kind: 'consume', reason });
