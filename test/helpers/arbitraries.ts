import fc from 'fast-check';
import type { Ethernet, Ipv4 } from '../../src/packets/types.ts';

/** fast-check generators of well-formed packets, for codec and simulation properties. */
export const u8 = fc.integer({ min: 0, max: 255 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const mac = fc.integer({ min: 0, max: 0xffffffffffff });
export const bytes = (max: number) => fc.uint8Array({ maxLength: max });
export const words = (max: number) => fc.integer({ min: 0, max }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 }));

export const icmp = fc.record({ kind: fc.constant('icmp' as const), type: u8, code: u8, rest: u32, data: bytes(64) });
export const udp = fc.record({ kind: fc.constant('udp' as const), srcPort: u16, dstPort: u16, payload: bytes(64) });
export const tcp = fc.record({
  kind: fc.constant('tcp' as const), srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0x1ff }),
  window: u16, urgent: u16, options: words(10), payload: bytes(64),
});

const ipv4Of = (addr: fc.Arbitrary<number>): fc.Arbitrary<Ipv4> => fc
  .record({ tos: u8, id: u16, df: fc.boolean(), ttl: u8, src: addr, dst: addr, options: words(10), later: fc.boolean(), mf: fc.boolean(), offset: fc.integer({ min: 1, max: 0x1fff }) })
  .chain((h) =>
    (h.later ? fc.record({ kind: fc.constant('raw' as const), data: bytes(64) }) : fc.oneof(icmp, udp, tcp)).map((payload) => {
      const protocol = payload.kind === 'icmp' ? 1 : payload.kind === 'udp' ? 17 : payload.kind === 'tcp' ? 6 : 200;
      return { kind: 'ipv4' as const, tos: h.tos, id: h.id, df: h.df, mf: h.mf, fragOffset: h.later ? h.offset : 0, ttl: h.ttl, protocol, src: h.src, dst: h.dst, options: h.options, payload };
    }),
  );

const arpOf = (hw: fc.Arbitrary<number>, addr: fc.Arbitrary<number>) => fc.record({ kind: fc.constant('arp' as const), op: u16, sha: hw, spa: addr, tha: hw, tpa: addr });

/** Frames with addresses drawn from `hw` and `addr` (any by default). */
export const ethernetOf = (hw: fc.Arbitrary<number> = mac, addr: fc.Arbitrary<number> = u32): fc.Arbitrary<Ethernet> => fc
  .record({ dst: hw, src: hw, vlans: fc.array(u16, { maxLength: 2 }), payload: fc.oneof(ipv4Of(addr), arpOf(hw, addr), fc.record({ kind: fc.constant('raw' as const), data: bytes(64) })) })
  .map((e) => ({ ...e, etherType: e.payload.kind === 'ipv4' ? 0x0800 : e.payload.kind === 'arp' ? 0x0806 : 0x88b5 }));


export const ethernet = ethernetOf();
