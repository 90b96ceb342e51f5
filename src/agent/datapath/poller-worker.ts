import { parentPort, workerData } from 'node:worker_threads';
import { koffi, POLLIN, sys } from './libc.ts';

/**
 * Blocks in poll() on the datapath's sockets so the main thread never has to, and tells the
 * main thread which are readable; then waits until it has drained them (level-triggered fds
 * would otherwise wake us again at once). Shared memory: [0] generation, [1] fd count, [2..] fds.
 */
const shared = new Int32Array(workerData.shared as SharedArrayBuffer);
const controlFd = workerData.controlFd as number;
const MAX = shared.length - 2;
const pollfds = koffi.alloc('uint8_t', (MAX + 1) * 8);
const view = new DataView(koffi.view(pollfds, (MAX + 1) * 8));
const drain = Buffer.alloc(64);

for (;;) {
  const gen = Atomics.load(shared, 0);
  // A count of -1: the datapath is closing.
  if (Atomics.load(shared, 1) < 0) break;
  const n = Math.min(Atomics.load(shared, 1), MAX);
  const fds = [controlFd];
  for (let i = 0; i < n; i++) fds.push(Atomics.load(shared, 2 + i));
  fds.forEach((fd, i) => {
    view.setInt32(i * 8, fd, true);
    view.setInt16(i * 8 + 4, POLLIN, true);
    view.setInt16(i * 8 + 6, 0, true);
  });
  const r = sys.poll(pollfds, fds.length, -1) as number;
  if (Atomics.load(shared, 1) < 0) break;
  if (r <= 0) continue;
  if (view.getInt16(6, true) !== 0) sys.read(controlFd, drain, drain.length);
  const ready: number[] = [];
  for (let i = 1; i < fds.length; i++) if (view.getInt16(i * 8 + 6, true) !== 0) ready.push(fds[i]!);
  if (ready.length === 0) continue;
  parentPort!.postMessage(ready);
  // Sleep until the main thread has read them (it bumps the generation), or the fd set changes.
  Atomics.wait(shared, 0, gen);
}
