import { CompiledQuery, type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { DB, EventsTable } from '../db/schema.js';
import { insertEachRow } from '../db/sqlite.js';
import { accountRef, dayOf } from './account-ref.js';

/** An event to store; its `account_ref` is worked out from its workspace and account. */
export type NewEvent = Omit<EventsTable, 'seq' | 'txid' | 'account_ref'>;

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

/** What an event is given as it is stored: its `account_ref` is worked out from these. */
export const NEW_EVENT_COLUMNS = [
  'workspace_id',
  'message_id',
  'type',
  'event',
  'account_key',
  'user_id',
  'anonymous_id',
  'timestamp',
  'received_at',
  'payload',
] as const satisfies readonly (keyof NewEvent)[];

export const EVENT_COLUMNS = ['seq', ...NEW_EVENT_COLUMNS] as const;

/** What an insert stored. */
export interface InsertedEvents {
  /**
   * Each event's `seq`, in the order given; null for a message id the workspace had already,
   * or had earlier in the same insert (a retried request in the same commit).
   */
  seqs: (number | null)[];
  /** The writing transaction, which every event of one insert shares. */
  txid: string;
}

type InsertedRow = Pick<StoredEvent, 'workspace_id' | 'message_id' | 'seq' | 'txid'>;

const messageKey = (workspaceId: string, messageId: string) => `${workspaceId}\u0000${messageId}`;

/**
 * Stores events, skipping those whose message id the workspace already has (a retried
 * batch), and returns the `seq` of each that was new.
 */
export async function insertEvents(
  db: Db,
  dialect: Dialect,
  events: readonly NewEvent[],
): Promise<InsertedEvents> {
  if (dialect.capabilities.columnArraysInsert) {
    const result = await db.executeQuery<InsertedRow>(
      CompiledQuery.raw(COLUMN_ARRAYS_INSERT, columnArrays(events)),
    );
    const stored = new Map<string, number>();
    let txid = '0';
    for (const row of result.rows) {
      txid = String(row.txid);
      stored.set(messageKey(row.workspace_id, row.message_id), Number(row.seq));
    }
    // Each new event counts for the first of its copies.
    const seqs = events.map((event) => {
      const key = messageKey(event.workspace_id, event.message_id);
      const seq = stored.get(key);
      stored.delete(key);
      return seq ?? null;
    });
    return { seqs, txid };
  }
  // SQLite: a single-row insert run for each event; `txid` is always 0 there (see `Dialect`).
  // Each event's parameters written out, in `INSERT_COLUMNS`' order: mapping over the columns
  // measured five times slower (0.1 against 0.02 µs an event).
  const seqs = await insertEachRow(
    db as Kysely<unknown>,
    INSERT_ONE,
    events.map((event) => [
      event.workspace_id,
      event.message_id,
      event.type,
      event.event,
      event.account_key,
      event.user_id,
      event.anonymous_id,
      event.timestamp,
      event.received_at,
      event.payload,
      refOf(event),
    ]),
  );
  return { seqs, txid: '0' };
}

const INSERT_COLUMNS = [...NEW_EVENT_COLUMNS, 'account_ref'] as const;

const refOf = (event: NewEvent) =>
  event.account_key === null ? null : accountRef(event.workspace_id, event.account_key);

const INSERT_ONE = `insert into events (${INSERT_COLUMNS.join(', ')})
  values (${INSERT_COLUMNS.map(() => '?').join(', ')})
  on conflict (workspace_id, message_id) do nothing`;

/**
 * Between the payloads, sent as one text: an array of JSON texts would be escaped quote by
 * quote on both sides (15% of the insert, measured). JSON text never holds U+001E raw.
 */
const PAYLOAD_SEPARATOR = '\u001e';

const COLUMN_TYPES: Partial<Record<(typeof INSERT_COLUMNS)[number], string>> = {
  account_ref: 'bigint',
  timestamp: 'timestamptz',
  received_at: 'timestamptz',
};

const COLUMN_ARRAYS_INSERT = `insert into events (${INSERT_COLUMNS.join(', ')})
  select * from unnest(${INSERT_COLUMNS.map((column, i) =>
    column === 'payload'
      ? `string_to_array($${i + 1}::text, E'\\x1e')`
      : `$${i + 1}::${COLUMN_TYPES[column] ?? 'text'}[]`,
  ).join(', ')})
  on conflict (workspace_id, message_id) do nothing
  returning workspace_id, message_id, seq, cast(txid as text) as txid`;

/** The events' values, one array per column (the payloads as one separated text). */
function columnArrays(events: readonly NewEvent[]): unknown[] {
  return INSERT_COLUMNS.map((column) => {
    if (column === 'account_ref') return events.map(refOf);
    if (column !== 'payload') return events.map((event) => event[column]);
    for (const { payload } of events) {
      if (payload === '' || payload.includes(PAYLOAD_SEPARATOR)) {
        throw new Error('an event payload must be JSON text: empty, or holding U+001E raw');
      }
    }
    return events.map((event) => event.payload).join(PAYLOAD_SEPARATOR);
  });
}

/** The highest `seq` stored so far (0 when none). */
export async function lastSeq(db: Db): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

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
  const rows = await db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .select(TXID_AS_TEXT)
    .where(dialect.committedAfter(cursor))
    .orderBy(dialect.commitOrder())
    .limit(limit)
    .execute();
  return rows;
}

/**
 * Whether exactly `count` events are committed after `from` and up to `to`, in commit order.
 * It reads at most `count + 1` of them: a tracker far behind asks it of a range that holds
 * hundreds of thousands.
 */
export async function committedExactly(
  db: Db,
  dialect: Dialect,
  from: EventCursor,
  to: EventCursor,
  count: number,
): Promise<boolean> {
  const row = await db
    .selectFrom(
      db
        .selectFrom('events')
        .select('seq')
        .where(dialect.committedAfter(from))
        .where(dialect.committedUpTo(to))
        .orderBy(dialect.commitOrder())
        .limit(count + 1)
        .as('head'),
    )
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirst();
  return Number(row?.count ?? 0) === count;
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
    .selectFrom('events')
    .select('seq')
    .where('received_at', '>=', cutoff)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : Number(row.seq);
}

/**
 * Deletes up to `limit` events received before `cutoff` that the tracking has read (up to
 * `cursor`) and whose `seq` is below `belowSeq` when given, lowest `seq` first, with their
 * entries in the account index, in one transaction; returns how many it deleted.
 */
export async function deleteEventsReceivedBefore(
  db: Db,
  dialect: Dialect,
  options: { cutoff: string; cursor: EventCursor; belowSeq: number | null; limit: number },
): Promise<number> {
  const { cutoff, cursor, belowSeq, limit } = options;
  return db.transaction().execute(async (trx) => {
    // The same rows for both statements: nothing after the cursor, where events still arrive.
    const expired = (eb: ExpressionBuilder<DB, 'events' | 'account_events'>) =>
      eb
        .selectFrom('events')
        .select('seq')
        .where('received_at', '<', cutoff)
        .where(dialect.committedUpTo(cursor))
        .$if(belowSeq !== null, (q) => q.where('seq', '<', belowSeq ?? 0))
        .orderBy('seq')
        .limit(limit);
    // Their index entries: each (account, day) group once, its entries kept or deleted by
    // `seq`. One lookup per event would read its whole group on PostgreSQL, whose index stops
    // at the day: a busy account's day, once per event of it.
    await trx
      .deleteFrom('account_events')
      .where(
        (eb) => eb.refTuple('account_ref', 'day'),
        'in',
        (eb) =>
          eb
            .selectFrom('events')
            .select([
              sql<number>`account_ref`.as('account_ref'),
              dayOf(dialect.epochMs(sql.ref('timestamp'))).as('day'),
            ])
            .distinct()
            .where('seq', 'in', expired(eb))
            .where('account_ref', 'is not', null)
            .$asTuple('account_ref', 'day'),
      )
      .where('seq', 'in', expired)
      .execute();
    const result = await trx.deleteFrom('events').where('seq', 'in', expired).executeTakeFirst();
    return Number(result.numDeletedRows);
  });
}

/** The last event stored so far, in commit order. */
export async function lastStoredEvent(db: Db, dialect: Dialect): Promise<EventCursor | null> {
  const row = await db
    .selectFrom('events')
    .select([sql<string>`cast(txid as text)`.as('txid'), 'seq'])
    .orderBy(dialect.commitOrder('desc'))
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : { txid: String(row.txid), seq: Number(row.seq) };
}
