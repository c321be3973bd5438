import { CompiledQuery, type Kysely } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { isUniqueViolation } from '../db/errors.js';
import { insertEachRow } from '../db/sqlite.js';
import {
  type BatchContent,
  type BatchToWrite,
  batchesOf,
  CONTENT_COLUMNS,
  keptOf,
  seqOf,
} from './event-batches.js';
import type { NewEvent } from './events.repo.js';

/*
 * Storing events: each batch's row, after the de-duplication of its calls (decision 0018).
 */

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
 * Runs `work` in a transaction, first taking every message id as new (`assumeNew`): a known id
 * then fails the whole transaction with a unique violation, and it runs once more with
 * `assumeNew` false, which tells the known ids apart. Retries are rare; guarding each
 * de-duplication with a savepoint instead cost every commit: two round trips on PostgreSQL, and
 * on SQLite a copy of every page the ids' insert touched (5% of the writing thread, measured).
 */
export async function inEventsTransaction<T>(
  db: Db,
  work: (trx: Db, assumeNew: boolean) => Promise<T>,
): Promise<T> {
  const attempt = (assumeNew: boolean) => db.transaction().execute((trx) => work(trx, assumeNew));
  try {
    return await attempt(true);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  return attempt(false);
}

/**
 * Stores batches of calls, skipping the calls whose message id the workspace already has (a
 * retried request). The de-duplication comes first, and only the new calls go into their
 * batch's row, numbered from 0; a batch of retries alone stores no row. With `assumeNew` (see
 * `inEventsTransaction`) every call is taken as new, and a known id fails the insert.
 */
export async function insertBatches(
  db: Db,
  dialect: Dialect,
  batches: readonly BatchToWrite[],
  assumeNew = false,
): Promise<InsertedBatches> {
  // Atomic on its own too: the de-duplication entries go in with their batches, or not at all.
  if (!db.isTransaction) {
    return inEventsTransaction(db, (trx, assumeNew) =>
      insertBatches(trx, dialect, batches, assumeNew),
    );
  }
  if (assumeNew) {
    return dialect.capabilities.columnArraysInsert
      ? insertAllAsNew(db, batches)
      : insertAllAsNewEach(db, batches);
  }
  const isNew = dialect.capabilities.columnArraysInsert
    ? await newMessagesByArrays(db, batches)
    : await newMessagesOneByOne(db, batches);
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

/** A workspace's `ref`, which keys its de-duplication entries (migration 0012), by its id. */
const WORKSPACE_REF = '(select ref from workspaces where id = ?)';

const INSERT_MESSAGE = `insert into event_ids (workspace_ref, message_id) values (${WORKSPACE_REF}, ?)
  on conflict (workspace_ref, message_id) do nothing`;

/** SQLite: 1 for each message id that was new, in order; each id goes in alone, to tell. */
async function newMessagesOneByOne(db: Db, batches: readonly BatchToWrite[]): Promise<Uint8Array> {
  const inserted = await insertEachRow(
    db as Kysely<unknown>,
    INSERT_MESSAGE,
    batches.flatMap(({ content, messageIds }) =>
      (JSON.parse(messageIds) as string[]).map((id) => [content.workspace_id, id]),
    ),
  );
  return Uint8Array.from(inserted, (rowid) => (rowid === null ? 0 : 1));
}

/**
 * SQLite: a batch's message ids in one statement, which a known id fails: half the cost of a
 * statement an id (0.6–0.9 against 1.3–1.9 µs an id, measured).
 */
const INSERT_NEW_MESSAGES = `insert into event_ids (workspace_ref, message_id)
  select ${WORKSPACE_REF}, value from json_each(?)`;

/** SQLite, taking every call as new (see `inEventsTransaction`). */
async function insertAllAsNewEach(
  db: Db,
  batches: readonly BatchToWrite[],
): Promise<InsertedBatches> {
  for (const { content, messageIds } of batches) {
    await db.executeQuery(
      CompiledQuery.raw(INSERT_NEW_MESSAGES, [content.workspace_id, messageIds]),
    );
  }
  const { ids, txid } = await insertBatchesEach(
    db,
    batches.map((batch) => batch.content),
  );
  return allNew(batches, ids, txid);
}

const messageKey = (workspaceId: string, messageId: string) => `${workspaceId}\u0000${messageId}`;

/**
 * PostgreSQL: every batch's message ids in one statement, each batch as its workspace and its ids'
 * JSON text (sent as one text, as `insertBatchesByArrays` sends its texts).
 */
const BATCHES_MESSAGE_IDS = `select workspaces.ref, id.value as message_id
  from unnest(string_to_array($1::text, E'\\x1d'), string_to_array($2::text, E'\\x1d'))
    as batch(workspace_id, ids)
  join workspaces on workspaces.id = batch.workspace_id
  cross join lateral json_array_elements_text(batch.ids::json) as id(value)`;

const INSERT_MESSAGES_BY_BATCH = `insert into event_ids (workspace_ref, message_id)
  ${BATCHES_MESSAGE_IDS}`;

/** The batches' workspaces and message ids, as `BATCHES_MESSAGE_IDS` takes them. */
const messageIdParameters = (batches: readonly BatchToWrite[]) => [
  batches.map((batch) => batch.content.workspace_id).join(BATCH_SEPARATOR),
  batches.map((batch) => batch.messageIds).join(BATCH_SEPARATOR),
];

/**
 * PostgreSQL, where some message id was known: 1 for each that was new, in order, from the ids
 * the insert returns. Only then: `on conflict` looks each id up before inserting it, and with the
 * ids returned costs nearly twice a plain insert's (7.6–8.2 against 4.2–4.5 µs an id, measured).
 */
async function newMessagesByArrays(db: Db, batches: readonly BatchToWrite[]): Promise<Uint8Array> {
  const { rows } = await db.executeQuery<{ workspace_id: string; message_id: string }>(
    CompiledQuery.raw(
      `with stored as (${INSERT_MESSAGES_BY_BATCH}
          on conflict (workspace_ref, message_id) do nothing returning workspace_ref, message_id)
        select workspaces.id as workspace_id, stored.message_id
        from stored join workspaces on workspaces.ref = stored.workspace_ref`,
      messageIdParameters(batches),
    ),
  );
  const stored = new Set(rows.map((row) => messageKey(row.workspace_id, row.message_id)));
  // Each new message counts for the first of its copies.
  return Uint8Array.from(
    batches.flatMap(({ content, messageIds }) =>
      (JSON.parse(messageIds) as string[]).map((id) => messageKey(content.workspace_id, id)),
    ),
    (key) => (stored.delete(key) ? 1 : 0),
  );
}

/**
 * PostgreSQL, taking every call as new: the message ids and the batches' rows in one statement
 * (one round trip); a known id fails it with a unique violation (see `inEventsTransaction`).
 */
async function insertAllAsNew(db: Db, batches: readonly BatchToWrite[]): Promise<InsertedBatches> {
  const { ids, txid } = await insertBatchesByArrays(
    db,
    batches.map((batch) => batch.content),
    {
      before: `with ids as (${INSERT_MESSAGES_BY_BATCH})`,
      parameters: messageIdParameters(batches),
    },
  );
  return allNew(batches, ids, txid);
}

const allNew = (
  batches: readonly BatchToWrite[],
  ids: number[],
  txid: string,
): InsertedBatches => ({
  stored: batches.map((batch, k) => ({
    id: ids[k] as number,
    content: batch.content,
    isNew: new Uint8Array(batch.content.size).fill(1),
  })),
  txid,
});

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
 * PostgreSQL: one statement for all, its parameters after `first` others; identities are handed
 * out in the order of `n`, so the ids returned, ascending, are the batches' in order.
 */
const batchesByArrays = (
  first: number,
) => `insert into event_batches (${CONTENT_COLUMNS.join(', ')})
  select ${CONTENT_COLUMNS.join(', ')} from unnest(${CONTENT_COLUMNS.map((column, i) =>
    TEXT_COLUMNS.has(column)
      ? `string_to_array($${first + i + 1}::text, E'\\x1d')`
      : `$${first + i + 1}::${column === 'size' ? 'integer' : column === 'received_at' ? 'timestamptz' : 'text'}[]`,
  ).join(', ')}) with ordinality as batch(${CONTENT_COLUMNS.join(', ')}, n)
  order by n
  returning id, cast(txid as text) as txid`;

/** Stores the batches' rows; `before`, a `with` clause to run first, takes `parameters`. */
async function insertBatchesByArrays(
  db: Db,
  batches: readonly BatchContent[],
  { before = '', parameters = [] }: { before?: string; parameters?: unknown[] } = {},
): Promise<{ ids: number[]; txid: string }> {
  for (const batch of batches) {
    if (batch.calls.includes(BATCH_SEPARATOR) || batch.payloads.includes(BATCH_SEPARATOR)) {
      throw new Error('a batch text must be JSON text: it holds U+001D raw');
    }
  }
  const result = await db.executeQuery<{ id: number; txid: string }>(
    CompiledQuery.raw(`${before} ${batchesByArrays(parameters.length)}`, [
      ...parameters,
      ...CONTENT_COLUMNS.map((column) =>
        TEXT_COLUMNS.has(column)
          ? batches.map((batch) => batch[column]).join(BATCH_SEPARATOR)
          : batches.map((batch) => batch[column]),
      ),
    ]),
  );
  const ids = result.rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  return { ids, txid: String(result.rows[0]?.txid ?? '0') };
}
