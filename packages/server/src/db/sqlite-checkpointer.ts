import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sqliteDriver } from './sqlite.js';

const require = createRequire(import.meta.url);

// Plain CommonJS, run from a string: the same in the built server and under the test runner.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'checkpoint') checkpoint();
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ stopped: true });
  }
});
`;

export interface Checkpointer {
  /** Checkpoints now; resolves with the pages copied into the database file. */
  checkpoint(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Copies the write-ahead log into the database file from a worker thread, on its own
 * connection, every `intervalMs`. SQLite otherwise does it inside whichever commit crosses the
 * log's size limit, stalling the event loop for that commit (a tenth of the server's time under
 * a steady stream of events). The main connection keeps a high limit as a safety net.
 */
export function startCheckpointer(file: string, intervalMs = 1000): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { file, intervalMs, driver: require.resolve(sqliteDriver().package) },
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
    worker.on('message', (message: { checkpointed?: number; stopped?: boolean }) => {
      if (message.checkpointed !== undefined) waiting.shift()?.(message.checkpointed);
      if (message.stopped) resolve();
    }),
  );
  // A checkpointer that cannot run leaves the work to the commits, as SQLite would anyway.
  worker.on('error', () => {});
  return {
    checkpoint: () =>
      new Promise<number>((resolve) => {
        if (exited) return resolve(0);
        waiting.push(resolve);
        worker.postMessage('checkpoint');
      }),
    stop: async () => {
      if (!exited) {
        worker.postMessage('stop');
        await Promise.race([stopped, exit]);
      }
      await worker.terminate();
    },
  };
}
