// The tracking on a thread of its own (`tracker-thread.ts` starts it): its own connection to
// the database (to an SQLite file, with the process's write lock), and the time of the main
// thread's last message. It also commits the ingestion's events, and tracks them from there.
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { openOnThread } from '../db/database.js';
import type { ToTracker, TrackerThreadData } from './tracker-thread.js';
import { createTracking, type ThreadHeap } from './tracking.js';

const port = parentPort;
if (port === null) throw new Error('tracker-worker runs as a worker thread');
const data = workerData as TrackerThreadData;
const database = openOnThread(data.database);
let now = data.now;

/** Log calls go to the main thread's logger; an error travels as its name, message and stack. */
const log = Object.fromEntries(
  (['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const).map((level) => [
    level,
    (fields: unknown, message?: string) => {
      const { err, ...rest } = (typeof fields === 'object' && fields !== null ? fields : {}) as {
        err?: unknown;
      };
      const error =
        err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : err;
      port.postMessage({
        type: 'log',
        level,
        fields: { ...rest, ...(error !== undefined && { err: error }) },
        message: typeof fields === 'string' ? fields : message,
      });
    },
  ]),
) as unknown as FastifyBaseLogger;

const tracking = createTracking({
  database,
  clock: () => now,
  log,
  pollMs: data.pollMs,
});

// Events are still written once the tracking stopped (a test that tracks them itself, say).
if (!data.tracking) void tracking.stop();

function heap(): ThreadHeap {
  (globalThis as { gc?: () => void }).gc?.();
  const { used_heap_size: used, total_heap_size: total } = v8.getHeapStatistics();
  return { used, total };
}

port.on('message', (message: ToTracker) => {
  now = message.now;
  if (message.type === 'nudge') return tracking.nudge();
  const work =
    message.type === 'write'
      ? tracking.writeEvents({ batches: message.batches, users: message.users })
      : message.type === 'sweep'
        ? tracking.sweep()
        : message.type === 'settled'
          ? tracking.settled()
          : message.type === 'heap'
            ? Promise.resolve(heap())
            : tracking.stop().then(() => database.close());
  work.then(
    (value) => port.postMessage({ type: 'done', id: message.id, value }),
    (error: unknown) => port.postMessage({ type: 'failed', id: message.id, error: String(error) }),
  );
});
