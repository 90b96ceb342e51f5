/**
 * The topology stream between the cluster and its agents (ws://host:8181/topology), as both
 * sides speak it. Authenticated by the same token as the API (X-Auth-Token on the upgrade).
 */

/** What a subscriber sends. `req` is echoed in the ack or error so clients can match answers. */
export type TopologyRequest =
  | { op: 'watch'; req?: number; type: string; id: string }
  | { op: 'watchType'; req?: number; type: string }
  /** Ends a subscription: of an object (id), a type (no id), a state key (key) or a state directory (key, dir). */
  | { op: 'unwatch'; req?: number; type: string; id?: string; key?: string; dir?: boolean }
  | { op: 'watchState'; req?: number; type: string; id: string; key: string }
  | { op: 'watchStateDir'; req?: number; type: string; id: string; key: string }
  | { op: 'setState'; req?: number; type: string; id: string; key: string; value: string }
  | { op: 'deleteState'; req?: number; type: string; id: string; key: string }
  /** Takes a key this connection will own only if no one holds it: the ack says `claimed` or `taken`. */
  | { op: 'claimState'; req?: number; type: string; id: string; key: string; value: string };

/** What the service sends: acks, object updates/deletes in commit order, state values, errors. */
export type TopologyMessage =
  | { op: 'ack'; req?: number; value?: string }
  | { op: 'error'; req?: number; message: string }
  | { op: 'update'; type: string; id: string; version: number; value: unknown }
  | { op: 'delete'; type: string; id: string }
  | { op: 'state'; type: string; id: string; key: string; value: string | null };

export const TOPOLOGY_PATH = '/topology';

/** Where a NAT port block's lease lives (MidoNet: /nat/<device>/<ip>/<block>), held by an agent's session. */
export const NAT_BLOCK_TYPE = 'NatBlock';
