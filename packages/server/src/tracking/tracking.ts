import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../auth/clock.js';
import type { Database } from '../db/database.js';
import { createEventWriter, type EventWriter } from './event-writer.js';
import { createTracker } from './tracker.js';

/** The tracking as the rest of the server sees it, wherever it runs. */
export interface Tracking {
  /** Commits a group commit's events; the tracking takes them from there. */
  writeEvents: EventWriter;
  /** Looks for events to track soon (stored by another process, say). */
  nudge(): void;
  start(): void;
  /** Evaluates the criteria that can come true with time alone; returns enrollments evaluated. */
  sweep(): Promise<number>;
  /** Resolves once every event stored so far is tracked (or a run failed: it is logged). */
  settled(): Promise<void>;
  stop(): Promise<void>;
  /** The heap of the tracking's own thread; null where it runs on the caller's, or has none now. */
  threadHeap(): Promise<ThreadHeap | null>;
}

/**
 * A thread's JavaScript heap, in bytes: after a full collection where the process allows one
 * (`--expose-gc`, as the benchmarks run), so that figures compare what is live.
 */
export interface ThreadHeap {
  used: number;
  total: number;
}

/** The tracking on this thread: events are written here and handed to the tracker as objects. */
export function createTracking(options: {
  database: Pick<Database, 'db' | 'dialect'>;
  clock: Clock;
  log: FastifyBaseLogger;
  pollMs?: number;
}): Tracking {
  const tracker = createTracker(options);
  return {
    writeEvents: createEventWriter({
      database: options.database,
      onStored: tracker.handOver,
      expectStored: tracker.expectHandOver,
    }),
    nudge: tracker.nudge,
    start: tracker.start,
    sweep: tracker.sweep,
    settled: tracker.settled,
    stop: tracker.stop,
    threadHeap: async () => null,
  };
}
