import { Worker } from 'node:worker_threads';

/**
 * Kills the agent when its event loop stops turning for `limitMs`: a wedged agent must look dead
 * (its topology session ends, its host goes not alive, a supervisor restarts it), never alive
 * and silent. A worker thread watches a heartbeat the main thread writes.
 */
export function startWatchdog(limitMs: number): { stop(): void } {
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const beat = workerData.beat;
     let last = Atomics.load(beat, 0), since = Date.now();
     setInterval(() => {
       const now = Atomics.load(beat, 0);
       if (now !== last) { last = now; since = Date.now(); return; }
       if (Date.now() - since > workerData.limitMs) {
         // Straight to fd 2: a worker's process.stderr goes through the stuck main thread.
         require('node:fs').writeSync(2, 'midolman: event loop stalled for ' + (Date.now() - since) + ' ms: exiting\\n');
         process.kill(process.pid, 'SIGKILL');
       }
     }, Math.min(1000, workerData.limitMs / 4));`,
    { eval: true, workerData: { beat, limitMs } },
  );
  worker.unref();
  const timer = setInterval(() => Atomics.add(beat, 0, 1), Math.min(200, limitMs / 8));
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      void worker.terminate();
    },
  };
}
