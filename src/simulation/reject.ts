import { ICMP_UNREACH, UNREACH_FILTER_PROHIBITED } from '../packets/types.ts';
import { Verdict } from './chain.ts';
import type { PacketContext } from './context.ts';
import { drop, type Outcome } from './outcome.ts';
import { icmpError, tcpReset } from './replies.ts';

/**
 * A chain said drop or reject. Reject answers the sender (a TCP reset for TCP, otherwise ICMP
 * "administratively prohibited") from the address it was trying to reach, out of the port the
 * packet came in on.
 */
export function rejectReply(ctx: PacketContext, v: Verdict, where: string): Outcome {
  if (v === Verdict.Reject) {
    const from = { mac: ctx.orig.ethDst, ip: ctx.orig.ipDst };
    const reply = ctx.orig.ipProto === 6 ? tcpReset(ctx) : icmpError(ctx, from, ICMP_UNREACH, UNREACH_FILTER_PROHIBITED);
    if (reply) ctx.generated.push({ egressPort: ctx.match.inPort, frame: reply });
    return drop(`rejected by ${where}`);
  }
  return drop(`dropped by ${where}`);
}
