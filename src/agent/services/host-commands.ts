/** The host commands the agent's services plumb their interfaces with (iproute2, sysctl, ethtool). */
import { execFileSync } from 'node:child_process';

/** Runs a command; its failure is the caller's. */
export const run = (cmd: string, args: string[]): void => void execFileSync(cmd, args, { stdio: 'ignore' });

/** Runs a command whose failure changes nothing that matters (already done, or optional). */
export function tryRun(cmd: string, args: string[]): void {
  try {
    run(cmd, args);
  } catch {
    // optional or already done
  }
}

/**
 * Frames of this interface cross userspace: no offloads that leave checksums to hardware. Without
 * ethtool the kernel may leave them unfilled and the far end drops those frames.
 */
export function offloadsOff(ifname: string, ns?: string): void {
  const ethtool = ['ethtool', '-K', ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off'];
  if (ns) tryRun('ip', ['netns', 'exec', ns, ...ethtool]);
  else tryRun(ethtool[0]!, ethtool.slice(1));
}
