import { spawn, type ChildProcess } from 'node:child_process';
import { log } from '../conf/log.ts';

const logger = log('interfaces');

/**
 * Tells the agent when the host's links or addresses change, from the kernel's rtnetlink
 * notifications as `ip monitor` relays them, so interfaces are scanned on change rather than by
 * polling /sys. Restarted if it dies; the agent keeps a slow periodic scan besides.
 */
export class LinkMonitor {
  private child: ChildProcess | null = null;
  private stopped = false;
  private pending = false;
  events = 0;

  constructor(private readonly onChange: () => void) {}

  start(): void {
    if (this.stopped) return;
    const child = spawn('ip', ['-o', 'monitor', 'link', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    child.stdout!.on('data', () => {
      this.events++;
      // A burst of notifications (a link and its addresses) is one change.
      if (this.pending) return;
      this.pending = true;
      setImmediate(() => {
        this.pending = false;
        this.onChange();
      });
    });
    child.on('error', (err) => logger.warn({ err: err.message }, 'no link notifications; interfaces are scanned periodically only'));
    child.on('exit', (code) => {
      if (this.stopped) return;
      logger.warn({ code }, 'link monitor exited; restarting');
      setTimeout(() => this.start(), 1000).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }
}
