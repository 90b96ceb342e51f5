import { Worker } from 'node:worker_threads';
import { sys } from './libc.ts';

const MAX_FDS = 1024;

/**
 * Readiness of the datapath's sockets without blocking the event loop: a worker thread polls
 * them and posts the ready ones; `onReady` drains them, then the worker polls again.
 */
export class Poller {
  private readonly shared = new Int32Array(new SharedArrayBuffer((MAX_FDS + 2) * 4));
  private readonly worker: Worker;
  private readonly wakeFd: number;
  private fds: number[] = [];

  constructor(onReady: (fds: number[]) => void) {
    const pipe = [0, 0];
    if ((sys.pipe2(pipe, 0o4000) as number) < 0) throw new Error('pipe2 failed');
    this.wakeFd = pipe[1]!;
    const workerData = { shared: this.shared.buffer, controlFd: pipe[0] };
    if (import.meta.url.endsWith('.js')) {
      this.worker = new Worker(new URL('./poller-worker.js', import.meta.url), { workerData });
    } else {
      // Run from the TypeScript: a one-line ES module registers tsx in the worker first.
      const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(new URL('./poller-worker.ts', import.meta.url).href)});`;
      this.worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
    }
    this.worker.unref();
    this.worker.on('message', (ready: number[]) => {
      try {
        onReady(ready);
      } finally {
        this.rearm();
      }
    });
  }

  private rearm(): void {
    Atomics.add(this.shared, 0, 1);
    Atomics.notify(this.shared, 0);
  }

  /** Replaces the set of fds watched. */
  watch(fds: number[]): void {
    if (fds.length > MAX_FDS) throw new Error(`more than ${MAX_FDS} datapath sockets`);
    this.fds = [...fds];
    for (let i = 0; i < this.fds.length; i++) Atomics.store(this.shared, 2 + i, this.fds[i]!);
    Atomics.store(this.shared, 1, this.fds.length);
    this.rearm();
    sys.write(this.wakeFd, Buffer.from([1]), 1);
  }

  /**
   * Stops the worker: a count of -1 tells it to end, the control pipe wakes it from poll() and the
   * generation from its wait (terminate() alone cannot interrupt a thread blocked in a syscall).
   */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    Atomics.store(this.shared, 1, -1);
    this.rearm();
    sys.write(this.wakeFd, Buffer.from([1]), 1);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
    await this.worker.terminate();
  }
}
