import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { dayOfMs } from './account-ref.js';
import {
  accountSpansOf,
  type BatchRow,
  batchOf,
  CONTENT_COLUMNS,
  eventsOfBatch,
  messageIdsOf,
  positionOf,
  seqOf,
} from './event-batches.js';

/** An event to store: a call, as the ingestion makes it. */
export interface NewEvent {
  workspace_id: string;
  message_id: string;
  type: string;
  event: string | null;
  /** The account's external id, or null where no group call or id named it yet. */
  account_key: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  /** The corrected time of the call (Segment's clock-skew rule), ISO-8601. */
  timestamp: string;
  received_at: string;
  /** The call's JSON text as sent. */
  payload: string;
}

/** A stored event, as the tracking reads it. */
export interface StoredEvent extends NewEvent {
  seq: number;
  txid: string;
}

/**
 * Oldest first, by time, then by position. ISO instants order as text: no collation needed
 * (`localeCompare` measured half as fast again).
 */
export function inTimeOrder(
  a: { timestamp: string; seq: number | string },
  b: { timestamp: string; seq: number | string },
): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return Number(a.seq) - Number(b.seq);
}

/** Where the tracking has read up to, in commit order. */
export interface EventCursor {
  txid: string;
  seq: number;
}

/** Whether the cursor is at or past an event, in commit order. */
export function passed(cursor: EventCursor, event: EventCursor): boolean {
  const [a, b] = [BigInt(cursor.txid), BigInt(event.txid)];
  return a > b || (a === b && cursor.seq >= event.seq);
}

/** `txid` as text, whatever the engine's integer: read in place of the column, as it. */
export const TXID_AS_TEXT = sql<string>`cast(txid as text)`.as('txid');

/*
 * Positions in commit order, as conditions on the batches (`dialect.committedAfter` and the
 * others, on `id`): the batches that hold events after a position start with the position's own.
 */

/** The batches holding events after `position`: its own, and those after it. */
export const fromBatchOf = (position: EventCursor): EventCursor => ({
  txid: position.txid,
  seq: batchOf(position.seq) - 1,
});

/** The batches holding events up to `position`: those before it, and its own. */
export const toBatchOf = (position: EventCursor): EventCursor => ({
  txid: position.txid,
  seq: batchOf(position.seq),
});

/** A stored batch's columns, as `eventsOfBatch` reads them. */
export const BATCH_COLUMNS = ['id', ...CONTENT_COLUMNS] as const;

/** Commit order over the batches. */
export const batchOrder = (dialect: Dialect, direction?: 'asc' | 'desc') =>
  dialect.commitOrder('event_batches.id', direction);

/** The highest `seq` stored so far (0 when none). */
export async function lastSeq(db: Db): Promise<number> {
  const {
    rows: [row],
  } = await db.executeQuery<{ id: number; size: number }>(LAST_BATCH);
  return row === undefined ? 0 : seqOf(Number(row.id), Number(row.size) - 1);
}

// Read with every commit: written out once, as the builder would on either engine.
const LAST_BATCH = CompiledQuery.raw('select id, size from event_batches order by id desc limit 1');

/** Batches read at once by a reader that takes events in commit order. */
const BATCHES_AT_ONCE = 16;

/**
 * The next events after the cursor in commit order. On PostgreSQL only transactions older
 * than every running one are read, so an event that commits later never lands behind the
 * cursor (see `transactionIdColumn`).
 */
export async function eventsAfter(
  db: Db,
  dialect: Dialect,
  cursor: EventCursor,
  limit: number,
): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  const cursorBatch = batchOf(cursor.seq);
  for (let from = fromBatchOf(cursor); ; ) {
    const rows: BatchRow[] = await db
      .selectFrom('event_batches')
      .select(BATCH_COLUMNS)
      .select(TXID_AS_TEXT)
      .where(dialect.committedAfter(from, 'id'))
      // The cursor's own batch only while it holds events after the cursor.
      .where(sql<boolean>`(id <> ${cursorBatch} or size > ${positionOf(cursor.seq) + 1})`)
      .orderBy(batchOrder(dialect))
      .limit(BATCHES_AT_ONCE)
      .execute();
    for (const row of rows) {
      const batch = eventsOfBatch(row);
      const start = Number(row.id) === cursorBatch ? positionOf(cursor.seq) + 1 : 0;
      for (let i = start; i < batch.length; i++) {
        events.push(batch[i] as StoredEvent);
        if (events.length === limit) return events;
      }
    }
    const last = rows.at(-1);
    if (rows.length < BATCHES_AT_ONCE || last === undefined) return events;
    from = { txid: String(last.txid), seq: Number(last.id) };
  }
}

/**
 * Whether exactly `count` events are committed after `from` and up to `to`, in commit order.
 * It reads the sizes of at most `count + 2` batches: a tracker far behind asks it of a range
 * that holds hundreds of thousands of events.
 */
export async function committedExactly(
  db: Db,
  dialect: Dialect,
  from: EventCursor,
  to: EventCursor,
  count: number,
): Promise<boolean> {
  const rows = await db
    .selectFrom('event_batches')
    .select(['id', 'size'])
    .where(dialect.committedAfter(fromBatchOf(from), 'id'))
    .where(dialect.committedUpTo(toBatchOf(to), 'id'))
    .orderBy(batchOrder(dialect))
    .limit(count + 2)
    .execute();
  let total = 0;
  for (const row of rows) {
    const id = Number(row.id);
    const start = id === batchOf(from.seq) ? positionOf(from.seq) + 1 : 0;
    const end = id === batchOf(to.seq) ? positionOf(to.seq) + 1 : Number(row.size);
    total += Math.max(0, end - start);
  }
  return total === count;
}

/**
 * The tracking's cursor, locked until the transaction ends where several processes may track at
 * once: one reader at a time follows the events.
 */
export const readCursor = (db: Db, dialect: Dialect): Promise<EventCursor> =>
  readNamedCursor(db, 'events', dialect);

export const writeCursor = (db: Db, cursor: EventCursor, now: string): Promise<void> =>
  writeNamedCursor(db, 'events', cursor, now);

/** The tracking's cursor as it stands, without waiting for a tracker that holds it. */
export const peekCursor = (db: Db): Promise<EventCursor> => readNamedCursor(db, 'events');

/** A cursor of `tracking_cursor`, locked when `lockWith` can lock it. */
export async function readNamedCursor(
  db: Db,
  name: string,
  lockWith?: Dialect,
): Promise<EventCursor> {
  const row = await db
    .selectFrom('tracking_cursor')
    .select([sql<string>`cast(txid as text)`.as('txid'), 'seq'])
    .where('name', '=', name)
    .$if(lockWith?.capabilities.concurrentWorkers === true, (q) => q.forUpdate())
    .executeTakeFirstOrThrow();
  return { txid: String(row.txid), seq: Number(row.seq) };
}

export async function writeNamedCursor(
  db: Db,
  name: string,
  cursor: EventCursor,
  now: string,
): Promise<void> {
  await db
    .updateTable('tracking_cursor')
    .set({ txid: cursor.txid, seq: cursor.seq, updated_at: now })
    .where('name', '=', name)
    .execute();
}

/** The lowest `seq` of an event received at or after `cutoff`, if any. */
export async function firstSeqReceivedFrom(db: Db, cutoff: string): Promise<number | null> {
  const row = await db
    .selectFrom('event_batches')
    .select('id')
    .where('received_at', '>=', cutoff)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : seqOf(Number(row.id), 0);
}

/** Rows a statement deletes at most: within SQLite's and PostgreSQL's bound on parameters. */
const DELETED_AT_ONCE = 1_000;

/** Runs `work` on each part of `items` of at most `DELETED_AT_ONCE`, one after the other. */
async function inParts<T>(items: readonly T[], work: (part: T[]) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += DELETED_AT_ONCE) {
    await work(items.slice(i, i + DELETED_AT_ONCE));
  }
}

/**
 * Deletes up to `limit` batches of events received before `cutoff` that the tracking has read
 * whole (up to `cursor`) and whose events' `seq` are below `belowSeq` when given, lowest first,
 * with their de-duplication and account index entries, in one transaction; returns how many
 * batches and events it deleted.
 */
export async function deleteEventsReceivedBefore(
  db: Db,
  dialect: Dialect,
  options: { cutoff: string; cursor: EventCursor; belowSeq: number | null; limit: number },
): Promise<{ batches: number; events: number }> {
  const { cutoff, cursor, belowSeq, limit } = options;
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('event_batches')
      .select(['id', 'workspace_id', 'size', 'accounts', 'calls'])
      .where('received_at', '<', cutoff)
      // Nothing after the cursor, where events still arrive.
      .where(dialect.committedUpTo(toBatchOf(cursor), 'id'))
      .$if(belowSeq !== null, (q) => q.where('id', '<', batchOf(belowSeq ?? 0)))
      .orderBy('id')
      .limit(limit)
      .execute();
    // The cursor's own batch only once it is read whole.
    const expired = rows.filter(
      (row) =>
        Number(row.id) !== batchOf(cursor.seq) || Number(row.size) - 1 <= positionOf(cursor.seq),
    );
    const workspaceIds = [...new Set(expired.map((row) => row.workspace_id))];
    const refs = new Map(
      workspaceIds.length === 0
        ? []
        : (
            await trx
              .selectFrom('workspaces')
              .select(['id', 'ref'])
              .where('id', 'in', workspaceIds)
              .execute()
          ).map((row) => [row.id, Number(row.ref)]),
    );
    const messages = expired.flatMap((row) =>
      messageIdsOf(row.calls).map((id) => [refs.get(row.workspace_id), id] as const),
    );
    await inParts(messages, (part) =>
      trx
        .deleteFrom('event_ids')
        .where((eb) =>
          eb.or(
            part.map(([workspaceRef, messageId]) =>
              eb.and([
                eb('workspace_ref', '=', workspaceRef ?? -1),
                eb('message_id', '=', messageId),
              ]),
            ),
          ),
        )
        .execute(),
    );
    const entries = expired.flatMap((row) =>
      accountSpansOf(row.accounts).map(([ref, , newest]) => ({
        ref,
        day: dayOfMs(newest),
        at: newest,
        batch: Number(row.id),
      })),
    );
    await inParts(entries, (part) =>
      trx
        .deleteFrom('account_events')
        .where((eb) =>
          eb.or(
            part.map(({ ref, day, at, batch }) =>
              eb.and([
                eb('account_ref', '=', ref),
                eb('day', '=', day),
                eb('at', '=', at),
                eb('batch', '=', batch),
              ]),
            ),
          ),
        )
        .execute(),
    );
    await inParts(
      expired.map((row) => Number(row.id)),
      (part) => trx.deleteFrom('event_batches').where('id', 'in', part).execute(),
    );
    // The cursor's batch is the last one read: a page without it is full only if more may wait.
    return {
      batches: expired.length,
      events: expired.reduce((sum, row) => sum + Number(row.size), 0),
    };
  });
}

/** The last event stored so far, in commit order. */
export async function lastStoredEvent(db: Db, dialect: Dialect): Promise<EventCursor | null> {
  const row = await db
    .selectFrom('event_batches')
    .select(['id', 'size'])
    .select(TXID_AS_TEXT)
    .orderBy(batchOrder(dialect, 'desc'))
    .limit(1)
    .executeTakeFirst();
  return row === undefined
    ? null
    : { txid: String(row.txid), seq: seqOf(Number(row.id), Number(row.size) - 1) };
}
