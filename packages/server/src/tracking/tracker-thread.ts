import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../auth/clock.js';
import type { ThreadDatabase } from '../db/database.js';
import type { BatchToWrite } from './event-batches.js';
import type { AccountUserRow, StoredFlags } from './event-writer.js';
import type { ThreadHeap, Tracking } from './tracking.js';

/** What the tracking thread starts with. */
export interface TrackerThreadData {
  database: ThreadDatabase;
  now: string;
  pollMs: number;
  /** False for a thread started by a write after the tracking stopped: it writes, nothing more. */
  tracking: boolean;
}

/** What the main thread asks of the tracking thread, which answers each. */
type Request =
  | { type: 'write'; batches: BatchToWrite[]; users: AccountUserRow[] }
  | { type: 'sweep' | 'settled' | 'stop' | 'heap' };

/**
 * A message to the tracking thread: each carries the main thread's time, the tracking's clock;
 * a nudge comes every `pollMs`, to look for events other processes stored.
 */
export type ToTracker = { type: 'nudge'; now: string } | (Request & { id: number; now: string });

type FromTracker =
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: string }
  | {
      type: 'log';
      level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
      fields: object;
      message?: string;
    };

const SWEEP_MS = 3_600_000;

// A worker thread runs JavaScript: under the test runner, whose sources are TypeScript, it runs
// the built module (`npm test` builds first).
const WORKER = new URL(
  import.meta.url.endsWith('.js') ? './tracker-worker.js' : '../../dist/tracking/tracker-worker.js',
  import.meta.url,
);

/**
 * The tracking on a thread of its own, with its own connection, which also writes the
 * ingestion's events: the main thread answers requests, parses them and hands each group commit
 * over, and the thread commits it, answers which events were new, and tracks them without their
 * crossing back (decisions 0015, 0017 and 0019). On an SQLite file the threads take turns at
 * its one writer through the write lock for everything else the main thread writes; the
 * tracking computes without it. Time is the main thread's `clock`, sent with every message.
 * Events are written after `stop()` too, by a thread that tracks nothing, which `start()`
 * replaces.
 */
export function startTrackerThread({
  database,
  clock,
  log,
  pollMs = 1000,
}: {
  database: ThreadDatabase;
  clock: Clock;
  log: FastifyBaseLogger;
  pollMs?: number;
}): Tracking {
  /** A running thread, and the answers it owes. */
  interface Thread {
    worker: Worker;
    waiting: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
    /** Started by a write after the tracking stopped: it writes, and tracks nothing. */
    writesOnly: boolean;
  }
  let current: Thread | null = null;
  let stopped = false;
  let nextId = 0;
  const timers: NodeJS.Timeout[] = [];

  function thread(): Thread {
    if (current !== null) return current;
    const worker = new Worker(WORKER, {
      workerData: {
        database,
        now: clock(),
        pollMs,
        tracking: !stopped,
      } satisfies TrackerThreadData,
    });
    const started: Thread = { worker, waiting: new Map(), writesOnly: stopped };
    worker.on('message', (message: FromTracker) => {
      if (message.type === 'log') {
        log[message.level](message.fields, message.message);
        return;
      }
      const waiter = started.waiting.get(message.id);
      started.waiting.delete(message.id);
      if (message.type === 'done') waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
    });
    // A thread that dies is started again by the next message; what it had not written at a
    // checkpoint is tracked again, as after a crash, and a write it did not answer fails.
    const fail = (error: Error) => {
      if (current === started) current = null;
      for (const waiter of started.waiting.values()) waiter.reject(error);
      started.waiting.clear();
    };
    worker.on('error', (error) => {
      log.error({ err: error }, 'the tracking thread failed; it starts again on the next event');
      fail(error);
    });
    worker.on('exit', () => fail(new Error('the tracking thread stopped')));
    current = started;
    return started;
  }

  function ask<T>(request: Request, to: Thread = thread()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = nextId++;
      to.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      to.worker.postMessage({ ...request, id, now: clock() } satisfies ToTracker);
    });
  }

  /** Stops a thread once it has answered what it was asked before. */
  async function end(running: Thread): Promise<void> {
    if (current === running) current = null;
    try {
      await ask<void>({ type: 'stop' }, running);
    } finally {
      await running.worker.terminate();
    }
  }

  function nudge(): void {
    if (!stopped) thread().worker.postMessage({ type: 'nudge', now: clock() } satisfies ToTracker);
  }

  return {
    nudge,
    // The calls cross as their batches' texts: a structured clone copies a long text at once,
    // and many short ones (an object a call) one by one.
    writeEvents: ({ batches, users }) => ask<StoredFlags>({ type: 'write', batches, users }),
    start(): void {
      stopped = false;
      // A thread that only writes gives way to one that tracks too, which reads back what it
      // wrote from the stored cursor on.
      if (current?.writesOnly) {
        end(current).catch((error: unknown) => {
          log.error({ err: error }, 'stopping the thread that only wrote events failed');
        });
      }
      if (timers.length === 0) {
        timers.push(
          setInterval(nudge, pollMs).unref(),
          setInterval(() => {
            ask<number>({ type: 'sweep' }).catch(() => {}); // logged by the thread
          }, SWEEP_MS).unref(),
        );
      }
      nudge();
    },
    sweep: () => (stopped ? Promise.resolve(0) : ask<number>({ type: 'sweep' })),
    settled: () => (stopped ? Promise.resolve() : ask<void>({ type: 'settled' })),
    // No thread is started to answer it.
    threadHeap: () =>
      current === null ? Promise.resolve(null) : ask<ThreadHeap>({ type: 'heap' }, current),
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      if (current !== null) await end(current);
    },
  };
}
