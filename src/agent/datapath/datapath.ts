/** What the agent asks of a datapath, whichever backend runs it (design.md §4). */
export interface Datapath {
  readonly counters: Record<string, number>;
  hasPort(portId: string): boolean;
  ports(): string[];
  addPort(portId: string, ifname: string): void;
  removePort(portId: string): void;
  /** Queues a frame for a local port; false when the port is not here. */
  output(portId: string, frame: Uint8Array): boolean;
  /** Sends a frame to a peer host in a tunnel, the egress port's tunnel key as VNI (VXLAN) or key (GRE). */
  tunnel(peer: string, port: number, vni: number, frame: Uint8Array, encap?: 'vxlan' | 'gre'): void;
  flush(): void;
  close(): Promise<void>;
}

export interface DatapathHandlers {
  /** A frame arrived on a bound interface (the view is valid only during the call). */
  frame(portId: string, bytes: Uint8Array): void;
  /** A VXLAN or GRE packet arrived from a peer host: the VNI (GRE key), the inner frame, the sender's address. */
  tunnel(vni: number, inner: Uint8Array, from: string): void;
  /** After a batch: a good moment to flush queued output. */
  batchDone(): void;
}
