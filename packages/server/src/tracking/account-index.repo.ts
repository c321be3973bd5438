import { type RawBuilder, type SelectQueryBuilder, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { DB } from '../db/schema.js';
import { accountRef, dayOf, dayOfMs } from './account-ref.js';
import {
  EVENT_COLUMNS,
  type EventCursor,
  inTimeOrder,
  lastStoredEvent,
  passed,
  readNamedCursor,
  type StoredEvent,
  TXID_AS_TEXT,
  writeNamedCursor,
} from './events.repo.js';

/*
 * The account index (`account_events`): which stored events belong to which account, by time,
 * for the account timeline and for rebuilds and replays, which read an account's events. The
 * tracker writes it in bulk, up to where it has read (decisions 0011 and 0017); readers take
 * what it holds and the events stored after it (its tail).
 */

const ACCOUNT_EVENTS = 'account_events';

/** How far the account index (`account_events`) reaches, in commit order. */
export const accountIndexCursor = (db: Db): Promise<EventCursor> =>
  readNamedCursor(db, ACCOUNT_EVENTS);

/**
 * Brings the account index up to `upTo`, a position the tracking has read (so every event up
 * to it is committed), in one statement; returns how many events it indexed.
 *
 * Indexing each event as it is stored would cost every commit one page per account it touches
 * (decision 0011); in bulk, each page takes many events at once.
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
  const at = dialect.epochMs(sql.ref('timestamp'));
  const result = await db
    .insertInto('account_events')
    .columns(['account_ref', 'day', 'at', 'seq'])
    .expression((eb) =>
      eb
        .selectFrom('events')
        .select([
          sql<number>`account_ref`.as('account_ref'),
          dayOf(at).as('day'),
          at.as('at'),
          'seq',
        ])
        .where(dialect.storedAfter(from))
        .where(dialect.committedUpTo(upTo))
        .where('account_ref', 'is not', null)
        // In the index's order, each of its pages is visited once.
        .orderBy(sql`1, 2, 3, 4`),
    )
    .executeTakeFirst();
  await writeNamedCursor(db, ACCOUNT_EVENTS, upTo, now);
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * A workspace's events stored after the account index's cursor: its tail, found by position in
 * commit order. `|| ''` keeps both planners off the de-duplication index, whose workspace prefix
 * would have them read every event the workspace ever stored.
 */
const inTail = (dialect: Dialect, workspaceId: string, indexed: EventCursor) =>
  sql<boolean>`${dialect.storedAfter(indexed)} and workspace_id || '' = ${workspaceId}`;

/**
 * The events of some accounts of one workspace that the tracking has read (up to the cursor),
 * each account's oldest first: those the account index holds, and those stored after it.
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
  const indexed = await accountIndexCursor(db);
  const events = () =>
    db
      .selectFrom('events')
      .select(EVENT_COLUMNS)
      .select(TXID_AS_TEXT)
      .where(dialect.committedUpTo(cursor));
  const refs = [...new Set(accountKeys.map((key) => accountRef(workspaceId, key)))];
  const rows = [
    ...(await events()
      .where('seq', 'in', (eb) =>
        eb.selectFrom('account_events').select('seq').where('account_ref', 'in', refs),
      )
      // Accounts that share a ref are told apart here (and the dialect's planners kept on `seq`).
      .where(sql<boolean>`workspace_id || '' = ${workspaceId}`)
      .where('account_key', 'in', accountKeys)
      .execute()),
    ...(await events()
      .where(inTail(dialect, workspaceId, indexed))
      .where('account_key', 'in', accountKeys)
      .execute()),
  ];
  // An event indexed since `indexed` was read is in both.
  const bySeq = new Map(rows.map((row) => [Number(row.seq), row]));
  for (const row of bySeq.values()) {
    byAccount.get(row.account_key ?? '')?.push(row);
  }
  for (const list of byAccount.values()) {
    list.sort(inTimeOrder);
  }
  return byAccount;
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
  dialect: Dialect,
  workspaceId: string,
  accountKey: string,
  options: { limit: number; before?: TimelinePosition; type?: string },
): Promise<TimelineEvent[]> {
  const { before, type, limit } = options;
  const indexed = await accountIndexCursor(db);
  // The tail is read up to the last event stored now: a range bounded on both sides, which
  // PostgreSQL's planner sees as a small slice even where it has no statistics.
  const last = await lastStoredEvent(db, dialect);
  if (last === null) return [];
  const ofType = <TB extends 'events' | 'account_events', O>(
    query: SelectQueryBuilder<DB, TB, O>,
  ): SelectQueryBuilder<DB, TB, O> =>
    type === undefined ? query : query.where(sql<boolean>`events.type = ${type}`);
  /** Older than `before`: by time, then by arrival at the same time unless it is a bare instant. */
  const olderThan = (time: RawBuilder<unknown>, seq: RawBuilder<unknown>, at: unknown) =>
    before?.seq === undefined
      ? sql<boolean>`${time} < ${at}`
      : sql<boolean>`(${time} < ${at} or (${time} = ${at} and ${seq} < ${before.seq}))`;
  const beforeMs = before === undefined ? null : Date.parse(before.timestamp);
  // The index's newest page (newest day first: decision 0012), then the newest page of what was
  // stored after the index; an event indexed in between is in both.
  const rows = [
    ...(await db
      .selectFrom('account_events')
      .innerJoin('events', 'events.seq', 'account_events.seq')
      .select(TIMELINE_COLUMNS.map((column) => `events.${column}` as const))
      .where('account_events.account_ref', '=', accountRef(workspaceId, accountKey))
      // Accounts that share a ref are told apart by the event itself.
      .where(sql<boolean>`events.workspace_id || '' = ${workspaceId}`)
      .where('events.account_key', '=', accountKey)
      .$if(beforeMs !== null, (q) =>
        q
          .where('account_events.day', '<=', dayOfMs(beforeMs ?? 0))
          .where(olderThan(sql.ref('account_events.at'), sql.ref('account_events.seq'), beforeMs)),
      )
      .$call(ofType)
      .orderBy('account_events.day', 'desc')
      .orderBy('account_events.at', 'desc')
      .orderBy('account_events.seq', 'desc')
      .limit(limit)
      .execute()),
    ...(await db
      .selectFrom('events')
      .select(TIMELINE_COLUMNS)
      .where(inTail(dialect, workspaceId, indexed))
      .where(dialect.committedUpTo(last))
      .where('account_key', '=', accountKey)
      .$if(before !== undefined, (q) =>
        q.where(olderThan(sql.ref('timestamp'), sql.ref('seq'), before?.timestamp)),
      )
      .$call(ofType)
      .orderBy('timestamp', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute()),
  ];
  const bySeq = new Map(rows.map((row) => [Number(row.seq), row]));
  return [...bySeq.values()].sort((a, b) => inTimeOrder(b, a)).slice(0, limit);
}

/** A stored event's columns but those the timeline already knows (its workspace and account). */
type TimelineColumn = Exclude<(typeof EVENT_COLUMNS)[number], 'workspace_id' | 'account_key'>;

const TIMELINE_COLUMNS = EVENT_COLUMNS.filter(
  (column): column is TimelineColumn => column !== 'workspace_id' && column !== 'account_key',
);

/** An event as the account timeline shows it. */
export type TimelineEvent = Pick<StoredEvent, TimelineColumn>;
