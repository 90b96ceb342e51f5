import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errno, koffi, SOL_SOCKET, sys } from './libc.ts';

/**
 * The fast path's BPF programs and maps (bpf/fastpath.bpf.c), loaded and attached through
 * Debian's libbpf with koffi: no native addon, nothing built at run time. Everything here is a
 * thin call; what to put in the maps is kernel-flows.ts's business.
 */

const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;
const BPF_TC_INGRESS = 1;
const BPF_TC_F_REPLACE = 1;
const BPF_ANY = 0;

/** sizeof(struct fp_key), sizeof(struct fp_action) in fastpath.bpf.c. */
export const KEY_SIZE = 32;
export const ACTION_SIZE = 96;

type Fn = (...args: unknown[]) => unknown;
interface Libbpf {
  open: Fn; load: Fn; close: Fn; program: Fn; programFd: Fn; mapFd: Fn;
  update: Fn; lookup: Fn; remove: Fn; hookCreate: Fn; hookDestroy: Fn; attach: Fn; cpus: Fn; setPrint: Fn;
}

let lib: Libbpf | null = null;

function libbpf(): Libbpf {
  if (lib) return lib;
  const l = koffi.load('libbpf.so.1');
  const silent = koffi.proto('int libbpf_print_fn(int level, const char *fmt, void *args)');
  lib = {
    open: l.func('void *bpf_object__open_file(const char *path, void *opts)'),
    load: l.func('int bpf_object__load(void *obj)'),
    close: l.func('void bpf_object__close(void *obj)'),
    program: l.func('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    programFd: l.func('int bpf_program__fd(void *prog)'),
    mapFd: l.func('int bpf_object__find_map_fd_by_name(void *obj, const char *name)'),
    update: l.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    lookup: l.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)'),
    remove: l.func('int bpf_map_delete_elem(int fd, const void *key)'),
    hookCreate: l.func('int bpf_tc_hook_create(void *hook)'),
    hookDestroy: l.func('int bpf_tc_hook_destroy(void *hook)'),
    attach: l.func('int bpf_tc_attach(const void *hook, void *opts)'),
    cpus: l.func('int libbpf_num_possible_cpus()'),
    // libbpf prints its own diagnostics to stderr; the agent logs what failed itself.
    setPrint: l.func('libbpf_set_print', 'void *', [koffi.pointer(silent)]),
  };
  lib.setPrint(null);
  return lib;
}

/** Where the compiled object is: beside the build (dist/bpf), whether run from dist or from source. */
export function objectPath(): string {
  const rel = import.meta.url.endsWith('.js') ? '../../../bpf/fastpath.bpf.o' : '../../../dist/bpf/fastpath.bpf.o';
  return fileURLToPath(new URL(rel, import.meta.url));
}

/** struct bpf_tc_hook for the ingress of one interface. */
function hook(ifindex: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeBigUInt64LE(24n, 0);
  h.writeInt32LE(ifindex, 8);
  h.writeUInt32LE(BPF_TC_INGRESS, 12);
  return h;
}

const check = (what: string, r: number): void => {
  if (r < 0) throw new Error(`${what}: ${r}`);
};

export interface FastPathCounters {
  local: number;
  encap: number;
  decap: number;
  error: number;
  drop: number;
}
/** The counters map's slots, in the order of fastpath.bpf.c's C_* enum. */
export const COUNTERS: readonly (keyof FastPathCounters)[] = ['local', 'encap', 'decap', 'error', 'drop'];

export class BpfPrograms {
  private readonly cpus: number;

  private constructor(
    private readonly obj: unknown,
    private readonly vmIngress: number,
    private readonly tunnelIngress: number,
    private readonly portFilter: number,
    private readonly maps: { flows: number; tunnelPorts: number; peers: number; config: number; counters: number },
  ) {
    this.cpus = libbpf().cpus() as number;
  }

  /** Loads the programs; throws with the reason when this kernel, or this user, cannot. */
  static load(path = objectPath()): BpfPrograms {
    if (!existsSync(path)) throw new Error(`no ${path} (built by npm run build with clang)`);
    const l = libbpf();
    const obj = l.open(path, null);
    if (!obj) throw new Error(`cannot open ${path}`);
    const r = l.load(obj) as number;
    if (r < 0) {
      l.close(obj);
      throw new Error(`the kernel refused the programs (${r})`);
    }
    const prog = (name: string) => l.programFd(l.program(obj, name)) as number;
    const map = (name: string) => l.mapFd(obj, name) as number;
    return new BpfPrograms(obj, prog('vm_ingress'), prog('tunnel_ingress'), prog('port_filter'), {
      flows: map('flows'), tunnelPorts: map('tunnel_ports'), peers: map('peers'), config: map('config'), counters: map('counters'),
    });
  }

  /** A port: its frames pass vm_ingress first, and its packet socket skips what the kernel forwards. */
  attachPort(ifindex: number, socketFd: number): void {
    this.attachTc(ifindex, this.vmIngress);
    const fd = Buffer.alloc(4);
    fd.writeInt32LE(this.portFilter);
    if ((sys.setsockopt(socketFd, SOL_SOCKET, SO_ATTACH_BPF, fd, 4) as number) < 0) throw new Error(`SO_ATTACH_BPF: errno ${errno()}`);
  }

  detachPort(ifindex: number, socketFd: number | null): void {
    libbpf().hookDestroy(hook(ifindex));
    if (socketFd !== null) sys.setsockopt(socketFd, SOL_SOCKET, SO_DETACH_BPF, Buffer.alloc(4), 4);
  }

  attachUnderlay(ifindex: number): void {
    this.attachTc(ifindex, this.tunnelIngress);
  }

  /** Removes our programs from an interface (the clsact qdisc they hang on goes with them). */
  detach(ifindex: number): void {
    libbpf().hookDestroy(hook(ifindex));
  }

  private attachTc(ifindex: number, prog: number): void {
    const l = libbpf();
    const h = hook(ifindex);
    // A program left by an agent that died is replaced: its maps are gone with it.
    l.hookCreate(h);
    const opts = Buffer.alloc(32);
    opts.writeBigUInt64LE(32n, 0);
    opts.writeInt32LE(prog, 8);
    opts.writeUInt32LE(BPF_TC_F_REPLACE, 12);
    opts.writeUInt32LE(1, 20); // handle
    opts.writeUInt32LE(1, 24); // priority
    check(`tc attach to interface ${ifindex}`, l.attach(h, opts) as number);
  }

  putFlow(key: Buffer, action: Buffer): boolean {
    return (libbpf().update(this.maps.flows, key, action, BPF_ANY) as number) === 0;
  }

  deleteFlow(key: Buffer): void {
    libbpf().remove(this.maps.flows, key);
  }

  /** A flow's kernel counters: packets, bytes, last use (ns of CLOCK_MONOTONIC); null once gone. */
  readFlow(key: Buffer): { packets: number; bytes: number; lastNs: bigint } | null {
    const v = Buffer.alloc(ACTION_SIZE);
    if ((libbpf().lookup(this.maps.flows, key, v) as number) !== 0) return null;
    return { packets: Number(v.readBigUInt64LE(72)), bytes: Number(v.readBigUInt64LE(80)), lastNs: v.readBigUInt64LE(88) };
  }

  setTunnelPort(port: number): void {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(port, 0); // network order in the low 16 bits the program compares
    this.putU32(this.maps.config, 0, v.readUInt32LE(0));
  }

  /** Replaces a u32 -> u32 map's contents with `entries`. */
  private sync(fd: number, now: Map<number, number>, was: Map<number, number>): void {
    for (const [k] of was) if (!now.has(k)) libbpf().remove(fd, u32(k));
    for (const [k, v] of now) if (was.get(k) !== v) this.putU32(fd, k, v);
  }

  private tunnelPortsNow = new Map<number, number>();
  private peersNow = new Map<number, number>();

  setTunnelPorts(byKey: Map<number, number>): void {
    this.sync(this.maps.tunnelPorts, byKey, this.tunnelPortsNow);
    this.tunnelPortsNow = new Map(byKey);
  }

  /** Peers' underlay addresses as the program reads them (network order, read little-endian). */
  setPeers(addresses: Iterable<string>): void {
    const now = new Map<number, number>();
    for (const a of addresses) now.set(Buffer.from(a.split('.').map(Number)).readUInt32LE(0), 1);
    this.sync(this.maps.peers, now, this.peersNow);
    this.peersNow = now;
  }

  private putU32(fd: number, key: number, value: number): void {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(value >>> 0);
    libbpf().update(fd, u32(key), v, BPF_ANY);
  }

  /** One of the programs' counters, summed over the CPUs (one map read). */
  counter(what: keyof FastPathCounters): number {
    const per = Buffer.alloc(8 * this.cpus);
    if ((libbpf().lookup(this.maps.counters, u32(COUNTERS.indexOf(what)), per) as number) !== 0) return 0;
    let n = 0n;
    for (let c = 0; c < this.cpus; c++) n += per.readBigUInt64LE(c * 8);
    return Number(n);
  }

  close(): void {
    libbpf().close(this.obj);
  }
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
