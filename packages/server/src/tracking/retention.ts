import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../auth/clock.js';
import type { Database, Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { deleteEventsReceivedBefore, firstSeqReceivedFrom, peekCursor } from './events.repo.js';

/**
 * Batches a transaction deletes at most (about 10,000 events of `bench:ingest`'s requests): each
 * is short, so no writer waits long behind it.
 */
export const RETENTION_CHUNK = 100;

const DAY_MS = 86_400_000;

/** The instant before which raw events are deleted. */
export function retentionCutoff(now: string, retentionDays: number): string {
  return new Date(Date.parse(now) - retentionDays * DAY_MS).toISOString();
}

/**
 * Deletes the raw events received more than `retentionDays` days before `now`, in statements
 * of at most `chunk` batches (lowest first, each committed on its own, so none holds a long
 * write lock), and returns how many it deleted.
 *
 * Progress does not depend on raw events: each enrollment's metric state is kept separately
 * (`enrollment_metrics`), and milestones stay as they were completed, so deleting events
 * changes no progress. What does read raw events only sees those still kept: the account
 * timeline, what-if replays, and rebuilds (`waymark backfill`, a new enrollment, a move to a new
 * version), which recompute metrics from the events within the retention.
 *
 * Events the tracking has not read yet are never deleted, however old, so a tracker that
 * falls behind loses nothing. The scan stops at the first event still kept (in `seq` order),
 * so a run costs little when there is nothing to delete; an expired event stored after it
 * (a clock set back) goes on a later run.
 */
export async function deleteExpiredEvents(
  db: Db,
  dialect: Dialect,
  now: string,
  retentionDays: number,
  { chunk = RETENTION_CHUNK }: { chunk?: number } = {},
): Promise<number> {
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new RangeError(`retentionDays must be a positive whole number, not ${retentionDays}`);
  const cutoff = retentionCutoff(now, retentionDays);
  const cursor = await peekCursor(db);
  const belowSeq = await firstSeqReceivedFrom(db, cutoff);
  let deleted = 0;
  for (;;) {
    const { batches, events } = await deleteEventsReceivedBefore(db, dialect, {
      cutoff,
      cursor,
      belowSeq,
      limit: chunk,
    });
    deleted += events;
    if (batches < chunk) return deleted;
  }
}

const HOUR_MS = 3_600_000;

/**
 * Deletes expired raw events once on start, then once an hour (a timer that keeps no process
 * alive), one run at a time; `stop()` waits for a run in progress.
 */
export function createEventRetention({
  database: { db, dialect },
  clock,
  log,
  retentionDays,
  everyMs = HOUR_MS,
}: {
  database: Pick<Database, 'db' | 'dialect'>;
  clock: Clock;
  log: FastifyBaseLogger;
  retentionDays: number;
  everyMs?: number;
}) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  function run(): void {
    running ??= deleteExpiredEvents(db, dialect, clock(), retentionDays)
      .then((deleted) => {
        if (deleted > 0) log.info({ deleted, retentionDays }, 'deleted expired raw events');
      })
      .catch((error: unknown) => log.error({ err: error }, 'deleting expired raw events failed'))
      .finally(() => {
        running = null;
      });
  }

  return {
    start(): void {
      if (timer !== null) return;
      run();
      timer = setInterval(run, everyMs).unref();
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
