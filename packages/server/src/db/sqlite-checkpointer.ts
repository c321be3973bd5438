import { Worker } from 'node:worker_threads';
import type { WriteLock } from './write-lock.js';

/** What the checkpointer's thread starts with. */
export interface CheckpointerData {
  file: string;
  /** The process's write lock (`WriteLock.buffer`). */
  writeLock: SharedArrayBuffer;
  intervalMs: number;
}

export type ToCheckpointer = 'checkpoint' | 'stop';
export type FromCheckpointer = { checkpointed: number } | { error: string } | { stopped: true };

// A worker thread runs JavaScript: under the test runner, whose sources are TypeScript, it runs
// the built module (`npm test` builds first).
const WORKER = new URL(
  import.meta.url.endsWith('.js')
    ? './sqlite-checkpointer-worker.js'
    : '../../dist/db/sqlite-checkpointer-worker.js',
  import.meta.url,
);

export interface Checkpointer {
  /** Checkpoints now; resolves with the pages of the log in the database file. */
  checkpoint(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Copies the write-ahead log into the database file from a worker thread, on its own
 * connection, every `intervalMs`, and leaves the log to start again from its top (decision
 * 0020). SQLite otherwise does it inside whichever commit crosses the log's size limit,
 * stalling every writer for that commit. The connections keep a high limit as a safety net.
 */
export function startCheckpointer(
  file: string,
  writeLock: WriteLock,
  intervalMs = 1000,
): Checkpointer {
  const worker = new Worker(WORKER, {
    workerData: { file, writeLock: writeLock.buffer, intervalMs } satisfies CheckpointerData,
  });
  worker.unref();
  const waiting: ((pages: number) => void)[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      for (const resolveWaiting of waiting.splice(0)) resolveWaiting(0);
      resolve();
    }),
  );
  const stopped = new Promise<void>((resolve) =>
    worker.on('message', (message: FromCheckpointer) => {
      if ('checkpointed' in message) waiting.shift()?.(message.checkpointed);
      if ('error' in message) waiting.shift()?.(0);
      if ('stopped' in message) resolve();
    }),
  );
  // A checkpointer that cannot run leaves the work to the commits, as SQLite would anyway.
  worker.on('error', () => {});
  return {
    checkpoint: () =>
      new Promise<number>((resolve) => {
        if (exited) return resolve(0);
        waiting.push(resolve);
        worker.postMessage('checkpoint' satisfies ToCheckpointer);
      }),
    stop: async () => {
      if (!exited) {
        worker.postMessage('stop' satisfies ToCheckpointer);
        await Promise.race([stopped, exit]);
      }
      await worker.terminate();
    },
  };
}
