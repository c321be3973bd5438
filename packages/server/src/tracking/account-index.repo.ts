import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { insertEachRow } from '../db/sqlite.js';
import { accountRef, dayOfMs } from './account-ref.js';
import {
  type AccountSpan,
  accountSpansOf,
  type BatchRow,
  batchOf,
  eventsOfBatch,
  positionOf,
} from './event-batches.js';
import {
  BATCH_COLUMNS,
  type EventCursor,
  inTimeOrder,
  lastStoredEvent,
  passed,
  readNamedCursor,
  type StoredEvent,
  TXID_AS_TEXT,
  toBatchOf,
  writeNamedCursor,
} from './events.repo.js';

/*
 * The account index (`account_events`): which stored batches hold which account's events, an
 * entry for each account of a batch with the oldest and newest time of its events there, for the
 * account timeline and for rebuilds and replays, which read an account's events. The tracker
 * writes it in bulk, up to where it has read (decisions 0011, 0017 and 0018): an entry covers its
 * whole batch, and the index the whole batches up to its cursor's. Readers take what it holds and
 * the batches stored after it (its tail).
 */

const ACCOUNT_EVENTS = 'account_events';

/** How far the account index (`account_events`) reaches, in commit order. */
export const accountIndexCursor = (db: Db): Promise<EventCursor> =>
  readNamedCursor(db, ACCOUNT_EVENTS);

/** The batches after those the index covers (up to its cursor's batch). */
const afterIndexed = (indexed: EventCursor): EventCursor => ({
  txid: indexed.txid,
  seq: batchOf(indexed.seq),
});

/** Batches whose account spans are read at once. */
const SPANS_AT_ONCE = 5_000;

/** Rows of a statement's list at most: within both engines' bound on parameters. */
const LIST_AT_ONCE = 1_000;

type Entry = [account_ref: number, day: number, at: number, batch: number, oldest: number];

const INSERT_ENTRY = `insert into account_events (account_ref, day, at, batch, oldest)
  values (?, ?, ?, ?, ?)`;

const ENTRIES_BY_ARRAYS = `insert into account_events (account_ref, day, at, batch, oldest)
  select * from unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[], $5::bigint[])`;

/**
 * Brings the account index up to `upTo`, a position the tracking has read (so every event up
 * to it is committed); returns how many entries it wrote.
 *
 * Indexing each batch as it is stored would cost every commit one page per account it touches
 * (decision 0011); in bulk, each page takes many entries at once.
 */
export async function indexAccountEvents(
  db: Db,
  dialect: Dialect,
  upTo: EventCursor,
  now: string,
): Promise<number> {
  // Locked where several processes may index at once: the second waits, then reads the first's.
  const from = await readNamedCursor(db, ACCOUNT_EVENTS, dialect);
  if (passed(from, upTo)) return 0;
  let written = 0;
  for (let after = afterIndexed(from); ; ) {
    const rows = await db
      .selectFrom('event_batches')
      .select(['id', 'accounts'])
      .select(TXID_AS_TEXT)
      .where(dialect.storedAfter(after, 'id'))
      .where(dialect.committedUpTo(toBatchOf(upTo), 'id'))
      .orderBy(dialect.commitOrder('event_batches.id'))
      .limit(SPANS_AT_ONCE)
      .execute();
    const entries: Entry[] = [];
    for (const row of rows) {
      const batch = Number(row.id);
      for (const [ref, oldest, newest] of accountSpansOf(row.accounts)) {
        entries.push([ref, dayOfMs(newest), newest, batch, oldest]);
      }
    }
    // In the index's order, each of its pages is visited once.
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
    if (dialect.capabilities.columnArraysInsert) {
      await db.executeQuery(
        CompiledQuery.raw(
          ENTRIES_BY_ARRAYS,
          [0, 1, 2, 3, 4].map((k) => entries.map((entry) => entry[k])),
        ),
      );
    } else {
      await insertEachRow(db as Kysely<unknown>, INSERT_ENTRY, entries);
    }
    written += entries.length;
    const last = rows.at(-1);
    if (rows.length < SPANS_AT_ONCE || last === undefined) break;
    after = { txid: String(last.txid), seq: Number(last.id) };
  }
  await writeNamedCursor(db, ACCOUNT_EVENTS, upTo, now);
  return written;
}

/**
 * The batches of a workspace stored after the account index's (up to `upTo`) that hold events of
 * one of the accounts `refs`: the tail, found by reading each batch's spans.
 */
async function tailBatches(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  refs: ReadonlySet<number>,
  upTo: EventCursor,
): Promise<number[]> {
  const indexed = await accountIndexCursor(db);
  const rows = await db
    .selectFrom('event_batches')
    .select(['id', 'accounts'])
    .where(dialect.storedAfter(afterIndexed(indexed), 'id'))
    .where(dialect.committedUpTo(toBatchOf(upTo), 'id'))
    .where('workspace_id', '=', workspaceId)
    .execute();
  return rows
    .filter((row) => accountSpansOf(row.accounts).some((span: AccountSpan) => refs.has(span[0])))
    .map((row) => Number(row.id));
}

/** The events of some batches of one workspace, up to `upTo`, that `keep` keeps. */
async function eventsOfBatches(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  batches: Iterable<number>,
  upTo: EventCursor,
  keep: (event: StoredEvent) => boolean,
): Promise<StoredEvent[]> {
  const ids = [...new Set(batches)];
  const events: StoredEvent[] = [];
  for (let i = 0; i < ids.length; i += LIST_AT_ONCE) {
    const rows: BatchRow[] = await db
      .selectFrom('event_batches')
      .select(BATCH_COLUMNS)
      .select(TXID_AS_TEXT)
      .where('id', 'in', ids.slice(i, i + LIST_AT_ONCE))
      .where('workspace_id', '=', workspaceId)
      .where(dialect.committedUpTo(toBatchOf(upTo), 'id'))
      .execute();
    for (const row of rows) {
      const id = Number(row.id);
      // In the position's own batch, up to the position.
      const end = id === batchOf(upTo.seq) ? positionOf(upTo.seq) + 1 : Number(row.size);
      const batch = eventsOfBatch(row);
      for (let k = 0; k < end; k++) {
        const event = batch[k] as StoredEvent;
        if (keep(event)) events.push(event);
      }
    }
  }
  return events;
}

/**
 * The events of some accounts of one workspace that the tracking has read (up to the cursor),
 * each account's oldest first: those of the batches the account index holds for them, and of
 * those stored after it.
 */
export async function accountEventsUpTo(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  accountKeys: readonly string[],
  cursor: EventCursor,
): Promise<Map<string, StoredEvent[]>> {
  const byAccount = new Map<string, StoredEvent[]>(accountKeys.map((key) => [key, []]));
  if (accountKeys.length === 0) return byAccount;
  const refs = [...new Set(accountKeys.map((key) => accountRef(workspaceId, key)))];
  const batches: number[] = [];
  for (let i = 0; i < refs.length; i += LIST_AT_ONCE) {
    const rows = await db
      .selectFrom('account_events')
      .select('batch')
      .distinct()
      .where('account_ref', 'in', refs.slice(i, i + LIST_AT_ONCE))
      .execute();
    for (const row of rows) batches.push(Number(row.batch));
  }
  batches.push(...(await tailBatches(db, dialect, workspaceId, new Set(refs), cursor)));
  // Accounts that share a ref are told apart by the events themselves.
  const events = await eventsOfBatches(db, dialect, workspaceId, batches, cursor, (event) =>
    byAccount.has(event.account_key ?? ''),
  );
  for (const event of events) byAccount.get(event.account_key ?? '')?.push(event);
  for (const list of byAccount.values()) list.sort(inTimeOrder);
  return byAccount;
}

/** Where a page of an account's timeline ends: the last event shown. */
export interface TimelinePosition {
  timestamp: string;
  /** Absent for a bare instant: every event at it is older than the page. */
  seq?: number;
}

/** Index entries read at once by the timeline. */
const TIMELINE_ENTRIES_AT_ONCE = 32;

/**
 * An account's raw events, newest first (by time, then by arrival), before `before` when
 * given; `limit` at most.
 *
 * The index's entries are read newest first (by their newest event): once `limit` events are
 * found and the next entry's newest event is older than the last of them, no entry after it
 * holds one of the page, even where a batch's events span a long time (an import).
 */
export async function accountTimeline(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  accountKey: string,
  options: { limit: number; before?: TimelinePosition; type?: string },
): Promise<TimelineEvent[]> {
  const { before, type, limit } = options;
  // The tail is read up to the last event stored now.
  const last = await lastStoredEvent(db, dialect);
  if (last === null) return [];
  const ref = accountRef(workspaceId, accountKey);
  /** Older than `before`: by time, then by arrival at the same time unless it is a bare instant. */
  const olderThanBefore = (event: StoredEvent) =>
    before === undefined ||
    event.timestamp < before.timestamp ||
    (before.seq !== undefined && event.timestamp === before.timestamp && event.seq < before.seq);
  const keep = (event: StoredEvent) =>
    event.account_key === accountKey &&
    (type === undefined || event.type === type) &&
    olderThanBefore(event);
  const read = new Set<number>();
  let found: StoredEvent[] = [];
  const take = async (batches: number[]) => {
    const fresh = batches.filter((batch) => !read.has(batch));
    for (const batch of fresh) read.add(batch);
    found.push(...(await eventsOfBatches(db, dialect, workspaceId, fresh, last, keep)));
    found = found.sort((a, b) => inTimeOrder(b, a)).slice(0, limit);
  };
  await take(await tailBatches(db, dialect, workspaceId, new Set([ref]), last));

  const beforeMs = before === undefined ? null : Date.parse(before.timestamp);
  for (let after: { day: number; at: number; batch: number } | null = null; ; ) {
    const entries = await db
      .selectFrom('account_events')
      .select(['day', 'at', 'batch'])
      .where('account_ref', '=', ref)
      .$if(beforeMs !== null, (q) => q.where('oldest', '<=', beforeMs ?? 0))
      .$if(after !== null, (q) =>
        q.where(sql<boolean>`(day, at, batch) < (${after?.day}, ${after?.at}, ${after?.batch})`),
      )
      .orderBy('day', 'desc')
      .orderBy('at', 'desc')
      .orderBy('batch', 'desc')
      .limit(TIMELINE_ENTRIES_AT_ONCE)
      .execute();
    const oldestFound = found.length < limit ? null : Date.parse(found.at(-1)?.timestamp ?? '');
    const wanted = entries.filter(
      (entry) => oldestFound === null || Number(entry.at) >= oldestFound,
    );
    await take(wanted.map((entry) => Number(entry.batch)));
    const lastEntry = entries.at(-1);
    if (
      lastEntry === undefined ||
      wanted.length < entries.length ||
      entries.length < TIMELINE_ENTRIES_AT_ONCE
    ) {
      break;
    }
    after = {
      day: Number(lastEntry.day),
      at: Number(lastEntry.at),
      batch: Number(lastEntry.batch),
    };
  }
  return found.map(({ workspace_id: _, account_key: __, ...event }) => event);
}

/** An event as the account timeline shows it: its workspace and account are known. */
export type TimelineEvent = Omit<StoredEvent, 'workspace_id' | 'account_key'>;
