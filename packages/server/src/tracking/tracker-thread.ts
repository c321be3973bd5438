import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../auth/clock.js';
import type { WriteLock } from '../db/write-lock.js';
import type { CommittedEvents, TrackedEvent } from './activities.js';
import { HandsOnTheWay } from './hands-on-the-way.js';
import type { Tracker } from './tracker.js';

/** What the tracking thread starts with. */
export interface TrackerThreadData {
  file: string;
  writeLock: SharedArrayBuffer;
  /** `HandsOnTheWay`'s count, shared with the ingestion on the main thread. */
  handsOnTheWay: SharedArrayBuffer;
  now: string;
  pollMs: number;
}

/**
 * A commit's events as one array per column, without their parsed properties (the tracking
 * parses a payload when a filter asks): a structured clone copies arrays of strings about five
 * times faster than the events as objects (0.5 against 2.5 µs an event, measured here), and
 * the copy is made on the main thread.
 */
export interface CommittedColumns {
  after: number | null;
  seq: number[];
  txid: string[];
  workspace_id: string[];
  message_id: string[];
  type: string[];
  event: (string | null)[];
  account_key: (string | null)[];
  user_id: (string | null)[];
  anonymous_id: (string | null)[];
  timestamp: string[];
  received_at: string[];
  payload: string[];
}

export function committedColumns({ after, events }: CommittedEvents): CommittedColumns {
  const column = <K extends keyof CommittedColumns & keyof TrackedEvent>(key: K) =>
    events.map((event) => event[key]);
  return {
    after,
    seq: column('seq'),
    txid: column('txid'),
    workspace_id: column('workspace_id'),
    message_id: column('message_id'),
    type: column('type'),
    event: column('event'),
    account_key: column('account_key'),
    user_id: column('user_id'),
    anonymous_id: column('anonymous_id'),
    timestamp: column('timestamp'),
    received_at: column('received_at'),
    payload: column('payload'),
  };
}

export function committedEvents(columns: CommittedColumns): CommittedEvents {
  return {
    after: columns.after,
    events: columns.seq.map((seq, i) => ({
      seq,
      txid: columns.txid[i] as string,
      workspace_id: columns.workspace_id[i] as string,
      message_id: columns.message_id[i] as string,
      type: columns.type[i] as string,
      event: columns.event[i] ?? null,
      account_key: columns.account_key[i] ?? null,
      user_id: columns.user_id[i] ?? null,
      anonymous_id: columns.anonymous_id[i] ?? null,
      timestamp: columns.timestamp[i] as string,
      received_at: columns.received_at[i] as string,
      payload: columns.payload[i] as string,
    })),
  };
}

/** A message to the tracking thread: each carries the main thread's time, the tracking's clock. */
export type ToTracker =
  | { type: 'nudge'; now: string }
  | { type: 'handOver'; committed: CommittedColumns; now: string }
  | { type: 'sweep' | 'settled' | 'stop'; id: number; now: string };

type FromTracker =
  | { type: 'tracked'; seq: number }
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: string }
  | {
      type: 'log';
      level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
      fields: object;
      message?: string;
    };

// A worker thread runs JavaScript: under the test runner, whose sources are TypeScript, it runs
// the built module (`npm test` builds first).
const WORKER = new URL(
  import.meta.url.endsWith('.js') ? './tracker-worker.js' : '../../dist/tracking/tracker-worker.js',
  import.meta.url,
);

const SWEEP_MS = 3_600_000;
/**
 * Events handed over and not yet tracked, beyond which the ingestion waits: at the tracking's
 * pace (25,000–35,000 events/s here) a third of a second, so completions stay well within one.
 */
const MAX_LAG = 10_000;
const MAX_LAG_WAIT_MS = 1000;

/**
 * The tracking of an SQLite file on a thread of its own, with its own connection: the main
 * thread keeps answering requests and storing events while the events are tracked. The two
 * threads take turns at SQLite's one writer through `writeLock`; the tracking computes without
 * it (decision 0015). Same interface as `createTracker`; time is the main thread's `clock`,
 * sent with every message.
 */
export function startTrackerThread({
  file,
  writeLock,
  clock,
  log,
  pollMs = 1000,
}: {
  file: string;
  writeLock: WriteLock;
  clock: Clock;
  log: FastifyBaseLogger;
  pollMs?: number;
}): Tracker {
  let worker: Worker | null = null;
  let stopped = false;
  let nextId = 0;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const timers: NodeJS.Timeout[] = [];
  // On SQLite each commit's events follow the last one's: `seq` alone says how far behind.
  let handedUpTo = 0;
  let trackedUpTo = 0;
  const waitingForRoom: (() => void)[] = [];
  const handsOnTheWay = new HandsOnTheWay();
  const room = () => handedUpTo - trackedUpTo <= MAX_LAG || worker === null;
  const wakeIfRoom = () => {
    if (room()) for (const resolve of waitingForRoom.splice(0)) resolve();
  };

  function thread(): Worker {
    if (worker !== null) return worker;
    const started = new Worker(WORKER, {
      workerData: {
        file,
        writeLock: writeLock.buffer,
        handsOnTheWay: handsOnTheWay.buffer,
        now: clock(),
        pollMs,
      } satisfies TrackerThreadData,
    });
    started.on('message', (message: FromTracker) => {
      if (message.type === 'log') {
        log[message.level](message.fields, message.message);
        return;
      }
      if (message.type === 'tracked') {
        trackedUpTo = Math.max(trackedUpTo, message.seq);
        wakeIfRoom();
        return;
      }
      const waiter = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.type === 'done') waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
    });
    // A thread that dies is started again by the next message; what it had not written at a
    // checkpoint is tracked again, as after a crash.
    const fail = (error: Error) => {
      if (worker === started) worker = null;
      for (const waiter of waiting.values()) waiter.reject(error);
      waiting.clear();
      wakeIfRoom();
    };
    started.on('error', (error) => {
      log.error({ err: error }, 'the tracking thread failed; it starts again on the next event');
      fail(error);
    });
    started.on('exit', () => fail(new Error('the tracking thread stopped')));
    worker = started;
    return started;
  }

  function ask<T>(type: 'sweep' | 'settled' | 'stop'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      thread().postMessage({ type, id, now: clock() } satisfies ToTracker);
    });
  }

  function nudge(): void {
    if (!stopped) thread().postMessage({ type: 'nudge', now: clock() } satisfies ToTracker);
  }

  return {
    nudge,
    expectHandOver: (): (() => void) => handsOnTheWay.expect(),
    /**
     * Committed events go over as columns: copying them costs this thread less than reading them
     * back costs the tracking's.
     */
    handOver(committed: CommittedEvents): void {
      if (!stopped) {
        thread().postMessage({
          type: 'handOver',
          committed: committedColumns(committed),
          now: clock(),
        } satisfies ToTracker);
        handedUpTo = Math.max(handedUpTo, committed.events.at(-1)?.seq ?? 0);
      }
    },
    /** A tracking that keeps failing holds no commit back more than MAX_LAG_WAIT_MS. */
    keepingUp: (): Promise<void> =>
      room() || stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waitingForRoom.push(resolve);
            setTimeout(resolve, MAX_LAG_WAIT_MS).unref();
          }),
    start(): void {
      stopped = false;
      if (timers.length === 0) {
        timers.push(
          setInterval(nudge, pollMs).unref(),
          setInterval(() => {
            ask<number>('sweep').catch(() => {}); // logged by the thread
          }, SWEEP_MS).unref(),
        );
      }
      nudge();
    },
    sweep: () => (stopped ? Promise.resolve(0) : ask<number>('sweep')),
    settled: () => (stopped ? Promise.resolve() : ask<void>('settled')),
    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers.splice(0)) clearInterval(timer);
      for (const resolve of waitingForRoom.splice(0)) resolve();
      const running = worker;
      if (running === null) return;
      try {
        await ask<void>('stop');
      } finally {
        worker = null;
        await running.terminate();
      }
    },
  };
}
