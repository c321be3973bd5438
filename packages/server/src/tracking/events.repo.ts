import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { EventsTable } from '../db/schema.js';
import { runEachRow } from '../db/sqlite.js';

export type NewEvent = Omit<EventsTable, 'seq' | 'txid'>;

/** A stored event, as the tracking reads it. */
export interface StoredEvent extends NewEvent {
  seq: number;
  txid: string;
}

/** Where the tracking has read up to, in commit order. */
export interface EventCursor {
  txid: string;
  seq: number;
}

const EVENT_COLUMNS = [
  'seq',
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
] as const;

/** What an insert stored: each new event's `seq` by workspace, then by message id. */
export interface InsertedEvents {
  seqs: Map<string, Map<string, number>>;
  /** The writing transaction, which every event of one insert shares. */
  txid: string;
}

type InsertedRow = Pick<StoredEvent, 'workspace_id' | 'message_id' | 'seq' | 'txid'>;

/**
 * Stores events, skipping those whose message id the workspace already has (a retried
 * batch), and returns the `seq` of each that was new.
 */
export async function insertEvents(
  db: Db,
  dialect: Dialect,
  events: readonly NewEvent[],
): Promise<InsertedEvents> {
  const inserted: InsertedEvents = { seqs: new Map(), txid: '0' };
  const keep = (workspaceId: string, messageId: string, seq: number) => {
    let seqs = inserted.seqs.get(workspaceId);
    if (seqs === undefined) {
      seqs = new Map();
      inserted.seqs.set(workspaceId, seqs);
    }
    seqs.set(messageId, seq);
  };
  if (dialect.capabilities.jsonRecordsetInsert) {
    const result = await db.executeQuery<InsertedRow>(
      CompiledQuery.raw(JSON_RECORDSET_INSERT, [JSON.stringify(events)]),
    );
    for (const row of result.rows) {
      inserted.txid = String(row.txid);
      keep(row.workspace_id, row.message_id, Number(row.seq));
    }
    return inserted;
  }
  // SQLite: a single-row insert run for each event; `txid` is always 0 there (see `Dialect`).
  const results = await runEachRow(
    db as Kysely<unknown>,
    INSERT_ONE,
    events.map((row) => INSERT_COLUMNS.map((column) => row[column])),
  );
  events.forEach((event, i) => {
    const result = results[i];
    if (result !== undefined && result.changes > 0) {
      keep(event.workspace_id, event.message_id, result.lastInsertRowid);
    }
  });
  return inserted;
}

const INSERT_COLUMNS = EVENT_COLUMNS.filter((column) => column !== 'seq');

const INSERT_ONE = `insert into events (${INSERT_COLUMNS.join(', ')})
  values (${INSERT_COLUMNS.map(() => '?').join(', ')})
  on conflict (workspace_id, message_id) do nothing`;

const JSON_RECORDSET_INSERT = `insert into events (${INSERT_COLUMNS.join(', ')})
  select ${INSERT_COLUMNS.join(', ')} from json_to_recordset($1::json) as r(
    workspace_id text, message_id text, type text, event text, account_key text, user_id text,
    anonymous_id text, timestamp timestamptz, received_at timestamptz, payload text)
  on conflict (workspace_id, message_id) do nothing
  returning workspace_id, message_id, seq, cast(txid as text) as txid`;

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
    .select(sql<string>`cast(txid as text)`.as('txid_text'))
    .where(dialect.committedAfter(cursor))
    .orderBy(dialect.commitOrder())
    .limit(limit)
    .execute();
  return rows.map(({ txid_text, ...row }) => ({ ...row, txid: txid_text }));
}

/** How many events are committed after `from` and up to `to`, in commit order. */
export async function countCommittedBetween(
  db: Db,
  dialect: Dialect,
  from: EventCursor,
  to: EventCursor,
): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('count'))
    .where(dialect.committedAfter(from))
    .where(dialect.committedUpTo(to))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** An account's events the tracking has read (up to the cursor), oldest first. */
export async function accountEventsUpTo(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  accountKey: string,
  cursor: EventCursor,
): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .select(sql<string>`cast(txid as text)`.as('txid'))
    .where('workspace_id', '=', workspaceId)
    .where('account_key', '=', accountKey)
    .where(dialect.committedUpTo(cursor))
    .orderBy('timestamp')
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({ ...row, txid: String(row.txid) }));
}

/**
 * The cursor, locked until the transaction ends where several processes may track at once:
 * one reader at a time follows the events.
 */
export async function readCursor(db: Db, dialect: Dialect): Promise<EventCursor> {
  const row = await db
    .selectFrom('tracking_cursor')
    .select([sql<string>`cast(txid as text)`.as('txid'), 'seq'])
    .where('name', '=', 'events')
    .$if(dialect.capabilities.concurrentWorkers, (q) => q.forUpdate())
    .executeTakeFirstOrThrow();
  return { txid: String(row.txid), seq: Number(row.seq) };
}

export async function writeCursor(db: Db, cursor: EventCursor, now: string): Promise<void> {
  await db
    .updateTable('tracking_cursor')
    .set({ txid: cursor.txid, seq: cursor.seq, updated_at: now })
    .where('name', '=', 'events')
    .execute();
}

/** Where a page of an account's timeline ends: the last event shown. */
export interface TimelinePosition {
  timestamp: string;
  /** Absent for a bare instant: every event at it is older than the page. */
  seq?: number;
}

/**
 * An account's raw events, newest first (by time, then by arrival), before `before` when
 * given; `limit` at most.
 */
export async function accountTimeline(
  db: Db,
  workspaceId: string,
  accountKey: string,
  options: { limit: number; before?: TimelinePosition; type?: string },
): Promise<Omit<StoredEvent, 'txid' | 'workspace_id' | 'account_key'>[]> {
  const { before, type } = options;
  return db
    .selectFrom('events')
    .select([
      'seq',
      'message_id',
      'type',
      'event',
      'user_id',
      'anonymous_id',
      'timestamp',
      'received_at',
      'payload',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('account_key', '=', accountKey)
    .$if(type !== undefined, (q) => q.where('type', '=', type ?? ''))
    .$if(before !== undefined, (q) =>
      q.where((eb) => {
        const at = before?.timestamp ?? '';
        const seq = before?.seq;
        return seq === undefined
          ? eb('timestamp', '<', at)
          : eb.or([
              eb('timestamp', '<', at),
              eb.and([eb('timestamp', '=', at), eb('seq', '<', seq)]),
            ]);
      }),
    )
    .orderBy('timestamp', 'desc')
    .orderBy('seq', 'desc')
    .limit(options.limit)
    .execute();
}

/** The cursor as it stands, without waiting for a tracker that holds it. */
export async function peekCursor(db: Db): Promise<EventCursor> {
  const row = await db
    .selectFrom('tracking_cursor')
    .select([sql<string>`cast(txid as text)`.as('txid'), 'seq'])
    .where('name', '=', 'events')
    .executeTakeFirstOrThrow();
  return { txid: String(row.txid), seq: Number(row.seq) };
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
 * `cursor`) and whose `seq` is below `belowSeq` when given, lowest `seq` first, in one
 * statement; returns how many it deleted.
 */
export async function deleteEventsReceivedBefore(
  db: Db,
  dialect: Dialect,
  options: { cutoff: string; cursor: EventCursor; belowSeq: number | null; limit: number },
): Promise<number> {
  const { cutoff, cursor, belowSeq, limit } = options;
  const result = await db
    .deleteFrom('events')
    .where('seq', 'in', (eb) =>
      eb
        .selectFrom('events')
        .select('seq')
        .where('received_at', '<', cutoff)
        .where(dialect.committedUpTo(cursor))
        .$if(belowSeq !== null, (q) => q.where('seq', '<', belowSeq ?? 0))
        .orderBy('seq')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
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
