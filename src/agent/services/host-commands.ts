/** The host commands the agent's services plumb their interfaces with (iproute2, sysctl). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command without blocking the agent's event loop; its failure is the caller's. */
export const run = async (cmd: string, args: string[]): Promise<void> => void (await exec(cmd, args));

/** Runs a command whose failure changes nothing that matters (already done, or optional). */
export async function tryRun(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch {
    // optional or already done
  }
}

