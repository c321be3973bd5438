import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { insertEachRow } from '../db/sqlite.js';
import { dayOfMs } from './account-ref.js';
import {
  accountSpansOf,
  type BatchContent,
  type BatchRow,
  type BatchToWrite,
  batchesOf,
  batchOf,
  eventsOfBatch,
  keptOf,
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
export const BATCH_COLUMNS = [
  'id',
  'workspace_id',
  'received_at',
  'size',
  'accounts',
  'calls',
  'payloads',
] as const;

/** Commit order over the batches. */
export const batchOrder = (dialect: Dialect, direction?: 'asc' | 'desc') =>
  dialect.commitOrder('event_batches.id', direction);

/** What an insert of events stored. */
export interface InsertedEvents {
  /**
   * Each event's `seq`, in the order given; null for a message id the workspace had already,
   * or had earlier in the same insert (a retried request in the same commit).
   */
  seqs: (number | null)[];
  /** The writing transaction, which every event of one insert shares. */
  txid: string;
}

/**
 * Stores events, skipping those whose message id the workspace already has (a retried
 * batch), and returns the `seq` of each that was new: `insertBatches` for events one by one.
 */
export async function insertEvents(
  db: Db,
  dialect: Dialect,
  events: readonly NewEvent[],
): Promise<InsertedEvents> {
  const batches = batchesOf(events);
  const { stored, txid } = await insertBatches(db, dialect, batches);
  const seqs: (number | null)[] = [];
  batches.forEach((batch, k) => {
    const row = stored[k];
    let position = 0;
    for (let i = 0; i < batch.content.size; i++) {
      seqs.push(row != null && row.isNew[i] === 1 ? seqOf(row.id, position++) : null);
    }
  });
  return { seqs, txid };
}

/** A batch as stored: its id, its row (of its new calls only), and which of its calls were new. */
export interface StoredBatch {
  id: number;
  content: BatchContent;
  /** 1 for each call that was new, 0 for a retry, in the order given. */
  isNew: Uint8Array;
}

/** What an insert of batches stored: for each batch given, its row, or null if none was new. */
export interface InsertedBatches {
  stored: (StoredBatch | null)[];
  /** The writing transaction, which every batch of one insert shares. */
  txid: string;
}

/**
 * Stores batches of calls, skipping the calls whose message id the workspace already has (a
 * retried request). The de-duplication comes first, and only the new calls go into their
 * batch's row, numbered from 0; a batch of retries alone stores no row.
 */
export async function insertBatches(
  db: Db,
  dialect: Dialect,
  batches: readonly BatchToWrite[],
): Promise<InsertedBatches> {
  // Atomic on its own too: the de-duplication entries go in with their batches, or not at all.
  if (!db.isTransaction) {
    return db.transaction().execute((trx) => insertBatches(trx, dialect, batches));
  }
  const isNew = dialect.capabilities.columnArraysInsert
    ? await newMessagesByArrays(db, batches)
    : await newMessagesOneBatchAtATime(db, batches);
  const rows: StoredBatch[] = [];
  const stored: (StoredBatch | null)[] = [];
  let at = 0;
  for (const batch of batches) {
    const flags = isNew.subarray(at, at + batch.content.size);
    at += batch.content.size;
    const count = flags.reduce((sum, flag) => sum + flag, 0);
    const row =
      count === 0
        ? null
        : {
            id: 0,
            content: count === flags.length ? batch.content : keptOf(batch.content, flags).content,
            isNew: flags,
          };
    if (row !== null) rows.push(row);
    stored.push(row);
  }
  if (rows.length === 0) return { stored, txid: '0' };
  const { ids, txid } = dialect.capabilities.columnArraysInsert
    ? await insertBatchesByArrays(
        db,
        rows.map((row) => row.content),
      )
    : await insertBatchesEach(
        db,
        rows.map((row) => row.content),
      );
  rows.forEach((row, k) => {
    row.id = ids[k] as number;
  });
  return { stored, txid };
}

const INSERT_MESSAGE = `insert into event_ids (workspace_id, message_id) values (?, ?)
  on conflict (workspace_id, message_id) do nothing`;

/** The batches' message ids, one row each, with their workspace. */

/** A batch's message ids in one statement, which says how many were new (SQLite). */
const INSERT_MESSAGES = `insert into event_ids (workspace_id, message_id)
  select ?, value from json_each(?) where true
  on conflict (workspace_id, message_id) do nothing`;

/**
 * SQLite: 1 for each message id that was new, in order. A batch's ids go in one statement: half
 * the cost of a statement an id (0.6–0.9 against 1.3–1.9 µs an id, measured). Where some were
 * known (a retry), that statement is taken back and each id goes in alone, to tell which.
 */
async function newMessagesOneBatchAtATime(
  db: Db,
  batches: readonly BatchToWrite[],
): Promise<Uint8Array> {
  const run = (text: string, parameters: unknown[] = []) =>
    db.executeQuery(CompiledQuery.raw(text, parameters));
  const isNew = new Uint8Array(batches.reduce((sum, batch) => sum + batch.content.size, 0));
  let at = 0;
  for (const batch of batches) {
    const { workspace_id: workspaceId, size } = batch.content;
    await run('savepoint event_ids');
    const { numAffectedRows } = await run(INSERT_MESSAGES, [workspaceId, batch.messageIds]);
    if (Number(numAffectedRows) === size) {
      isNew.fill(1, at, at + size);
    } else {
      await run('rollback to event_ids');
      const inserted = await insertEachRow(
        db as Kysely<unknown>,
        INSERT_MESSAGE,
        (JSON.parse(batch.messageIds) as string[]).map((id) => [workspaceId, id]),
      );
      inserted.forEach((rowid, i) => {
        isNew[at + i] = rowid === null ? 0 : 1;
      });
    }
    await run('release event_ids');
    at += size;
  }
  return isNew;
}

const messageKey = (workspaceId: string, messageId: string) => `${workspaceId}\u0000${messageId}`;

/**
 * PostgreSQL: every batch's message ids in one statement, each batch as its workspace and its ids'
 * JSON text (sent as one text, as `insertBatchesByArrays` sends its texts).
 */
const BATCHES_MESSAGE_IDS = `select batch.workspace_id, id.value as message_id
  from unnest(string_to_array($1::text, E'\\x1d'), string_to_array($2::text, E'\\x1d'))
    as batch(workspace_id, ids),
  json_array_elements_text(batch.ids::json) as id(value)`;

const INSERT_MESSAGES_BY_BATCH = `insert into event_ids (workspace_id, message_id)
  ${BATCHES_MESSAGE_IDS}
  on conflict (workspace_id, message_id) do nothing`;

/**
 * PostgreSQL: 1 for each message id that was new, in order. One statement says how many were
 * new; where some were known (a retry), it is taken back and run again returning the new ones,
 * to tell which: rows returned for every id cost the server's thread about 1 µs an event.
 */
async function newMessagesByArrays(db: Db, batches: readonly BatchToWrite[]): Promise<Uint8Array> {
  const run = <R>(text: string, parameters: unknown[] = []) =>
    db.executeQuery<R>(CompiledQuery.raw(text, parameters));
  const total = batches.reduce((sum, batch) => sum + batch.content.size, 0);
  const parameters = [
    batches.map((batch) => batch.content.workspace_id).join(BATCH_SEPARATOR),
    batches.map((batch) => batch.messageIds).join(BATCH_SEPARATOR),
  ];
  await run('savepoint event_ids');
  const { numAffectedRows } = await run(INSERT_MESSAGES_BY_BATCH, parameters);
  if (Number(numAffectedRows) === total) {
    await run('release event_ids');
    return new Uint8Array(total).fill(1);
  }
  await run('rollback to event_ids');
  const { rows } = await run<{ workspace_id: string; message_id: string }>(
    `${INSERT_MESSAGES_BY_BATCH} returning workspace_id, message_id`,
    parameters,
  );
  await run('release event_ids');
  const stored = new Set(rows.map((row) => messageKey(row.workspace_id, row.message_id)));
  // Each new message counts for the first of its copies.
  return Uint8Array.from(
    batches.flatMap(({ content, messageIds }) =>
      (JSON.parse(messageIds) as string[]).map((id) => messageKey(content.workspace_id, id)),
    ),
    (key) => (stored.delete(key) ? 1 : 0),
  );
}

const CONTENT_COLUMNS = [
  'workspace_id',
  'received_at',
  'size',
  'accounts',
  'calls',
  'payloads',
] as const satisfies readonly (keyof BatchContent)[];

const INSERT_BATCH = `insert into event_batches (${CONTENT_COLUMNS.join(', ')})
  values (${CONTENT_COLUMNS.map(() => '?').join(', ')})`;

async function insertBatchesEach(
  db: Db,
  batches: readonly BatchContent[],
): Promise<{ ids: number[]; txid: string }> {
  const rowids = await insertEachRow(
    db as Kysely<unknown>,
    INSERT_BATCH,
    batches.map((batch) => CONTENT_COLUMNS.map((column) => batch[column])),
  );
  // SQLite: `txid` is always 0 (see `Dialect`).
  return { ids: rowids.map(Number), txid: '0' };
}

/**
 * Between the batches' texts, sent as one text each: an array of texts would be escaped quote by
 * quote (15% of the insert, measured). JSON text never holds U+001D raw, nor a payload list.
 */
const BATCH_SEPARATOR = '\u001d';

const TEXT_COLUMNS = new Set<string>(['accounts', 'calls', 'payloads']);

/**
 * PostgreSQL: one statement for all; identities are handed out in the order of `n`, so the ids
 * returned, ascending, are the batches' in order.
 */
const BATCHES_BY_ARRAYS = `insert into event_batches (${CONTENT_COLUMNS.join(', ')})
  select ${CONTENT_COLUMNS.join(', ')} from unnest(${CONTENT_COLUMNS.map((column, i) =>
    TEXT_COLUMNS.has(column)
      ? `string_to_array($${i + 1}::text, E'\\x1d')`
      : `$${i + 1}::${column === 'size' ? 'integer' : column === 'received_at' ? 'timestamptz' : 'text'}[]`,
  ).join(', ')}) with ordinality as batch(${CONTENT_COLUMNS.join(', ')}, n)
  order by n
  returning id, cast(txid as text) as txid`;

async function insertBatchesByArrays(
  db: Db,
  batches: readonly BatchContent[],
): Promise<{ ids: number[]; txid: string }> {
  for (const batch of batches) {
    if (batch.calls.includes(BATCH_SEPARATOR) || batch.payloads.includes(BATCH_SEPARATOR)) {
      throw new Error('a batch text must be JSON text: it holds U+001D raw');
    }
  }
  const result = await db.executeQuery<{ id: number; txid: string }>(
    CompiledQuery.raw(
      BATCHES_BY_ARRAYS,
      CONTENT_COLUMNS.map((column) =>
        TEXT_COLUMNS.has(column)
          ? batches.map((batch) => batch[column]).join(BATCH_SEPARATOR)
          : batches.map((batch) => batch[column]),
      ),
    ),
  );
  const ids = result.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  return { ids, txid: String(result.rows[0]?.txid ?? '0') };
}

/** The highest `seq` stored so far (0 when none). */
export async function lastSeq(db: Db): Promise<number> {
  const row = await db
    .selectFrom('event_batches')
    .select(['id', 'size'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? 0 : seqOf(Number(row.id), Number(row.size) - 1);
}

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
    const messages = expired.flatMap((row) =>
      messageIdsOf(row.calls).map((id) => [row.workspace_id, id] as const),
    );
    for (let i = 0; i < messages.length; i += DELETED_AT_ONCE) {
      const part = messages.slice(i, i + DELETED_AT_ONCE);
      await trx
        .deleteFrom('event_ids')
        .where((eb) =>
          eb.or(
            part.map(([workspaceId, messageId]) =>
              eb.and([eb('workspace_id', '=', workspaceId), eb('message_id', '=', messageId)]),
            ),
          ),
        )
        .execute();
    }
    const entries = expired.flatMap((row) =>
      accountSpansOf(row.accounts).map(([ref, , newest]) => ({
        ref,
        day: dayOfMs(newest),
        at: newest,
        batch: Number(row.id),
      })),
    );
    for (let i = 0; i < entries.length; i += DELETED_AT_ONCE) {
      const part = entries.slice(i, i + DELETED_AT_ONCE);
      await trx
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
        .execute();
    }
    const ids = expired.map((row) => Number(row.id));
    for (let i = 0; i < ids.length; i += DELETED_AT_ONCE) {
      await trx
        .deleteFrom('event_batches')
        .where('id', 'in', ids.slice(i, i + DELETED_AT_ONCE))
        .execute();
    }
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
