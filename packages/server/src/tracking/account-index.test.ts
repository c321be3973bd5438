import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Db } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { migrations } from '../db/migrations/index.js';
import { describeEngines } from '../testing/describe-engines.js';
import { createTestDatabase } from '../testing/engines.js';
import { makeWorkspace, makeWorkspaceBeforeRefs, T0 } from '../testing/factories.js';
import { storedEvents } from '../testing/stored-events.js';
import { call, startTestServer } from '../testing/test-server.js';
import { basicAuth, trackingWorkspace } from '../testing/tracking.js';
import {
  accountEventsUpTo,
  accountIndexCursor,
  accountTimeline,
  indexAccountEvents,
  type TimelinePosition,
} from './account-index.repo.js';
import { accountRef } from './account-ref.js';
import { batchOf } from './event-batches.js';
import {
  type EventCursor,
  eventsAfter,
  type NewEvent,
  readNamedCursor,
  type StoredEvent,
} from './events.repo.js';
import { insertEvents } from './events-insert.repo.js';

// Seven hours a step: the events span several UTC days, which the index is grouped by.
const STEP = 7 * 3_600_000;
const at = (steps: number) => new Date(Date.parse(T0) + steps * STEP).toISOString();

/** Events of `acme` (with ties in time and a late arrival), and of others that must not show. */
function eventsOf(workspaceId: string, otherWorkspaceId: string): NewEvent[] {
  const event = (
    messageId: string,
    steps: number,
    accountKey: string | null,
    type = 'track',
    workspace = workspaceId,
  ): NewEvent => ({
    workspace_id: workspace,
    message_id: messageId,
    type,
    event: type === 'track' ? `Event ${messageId}` : null,
    account_key: accountKey,
    user_id: 'ada',
    anonymous_id: null,
    timestamp: at(steps),
    received_at: at(60),
    payload: JSON.stringify({ type, messageId }),
  });
  return [
    event('a1', 1, 'acme'),
    event('a2', 5, 'acme', 'page'),
    event('g1', 2, 'globex'),
    event('a3', 5, 'acme'),
    event('a4', 5, 'acme'),
    event('n1', 3, null),
    event('a5', 3, 'acme', 'identify'),
    event('x1', 4, 'acme', 'track', otherWorkspaceId),
    event('a6', 9, 'acme'),
    event('a7', 0, 'acme'), // arrives late: the oldest of all
    event('a8', 9, 'acme', 'page'),
  ];
}

describeEngines('the account index, written in bulk', (use, engine) => {
  it('shows every event of the account, wherever the index stands', async () => {
    const { db, dialect } = use();
    const workspaceId = (await makeWorkspace(db)).id;
    const otherWorkspaceId = (await makeWorkspace(db)).id;
    const sent = eventsOf(workspaceId, otherWorkspaceId);
    // Stored in three commits, so that the index can stand between them and inside them.
    await insertEvents(db, dialect, sent.slice(0, 4));
    await insertEvents(db, dialect, sent.slice(4, 8));
    await insertEvents(db, dialect, sent.slice(8));
    const stored = (await eventsAfter(db, dialect, { txid: '0', seq: 0 }, 1000)).filter(
      (e) => e.workspace_id === workspaceId || e.workspace_id === otherWorkspaceId,
    );
    expect(stored).toHaveLength(sent.length);
    const acme = stored.filter((e) => e.workspace_id === workspaceId && e.account_key === 'acme');
    const oldestFirst = [...acme]
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.seq - b.seq)
      .map((e) => e.message_id);
    const newestFirst = [...oldestFirst].reverse();
    const last: EventCursor = { txid: stored.at(-1)?.txid ?? '0', seq: stored.at(-1)?.seq ?? 0 };

    /** Every page of the timeline, `limit` at a time, following each page's last event. */
    const allPages = async (limit: number, type?: string) => {
      const seen: string[] = [];
      let before: TimelinePosition | undefined;
      for (let page = 0; page < 20; page++) {
        const rows = await accountTimeline(db, dialect, workspaceId, 'acme', {
          limit,
          ...(before !== undefined && { before }),
          ...(type !== undefined && { type }),
        });
        seen.push(...rows.map((row) => row.message_id));
        const end = rows.at(-1);
        if (rows.length < limit || end === undefined) return seen;
        before = { timestamp: end.timestamp, seq: Number(end.seq) };
      }
      throw new Error('the timeline did not end');
    };

    // From nothing indexed to everything, one event at a time.
    for (const upTo of [null, ...stored]) {
      if (upTo !== null) {
        await indexAccountEvents(db, dialect, { txid: upTo.txid, seq: upTo.seq }, T0);
      }
      const where = `index up to ${upTo?.message_id ?? 'nothing'}`;
      for (const limit of [1, 2, 3, 100]) {
        expect(await allPages(limit), `${where}, pages of ${limit}`).toEqual(newestFirst);
      }
      expect(await allPages(2, 'page'), where).toEqual(
        newestFirst.filter((id) => acme.find((e) => e.message_id === id)?.type === 'page'),
      );
      const read = await accountEventsUpTo(db, dialect, workspaceId, ['acme', 'globex'], last);
      expect(
        read.get('acme')?.map((e) => e.message_id),
        where,
      ).toEqual(oldestFirst);
      expect(read.get('globex')?.map((e) => e.message_id)).toEqual(['g1']);
    }
    // Only the accounts of each batch are indexed, each once.
    expect(await indexedOf(db, workspaceId)).toEqual(
      entriesOf(stored.filter((e) => e.workspace_id === workspaceId)),
    );
    expect(await accountIndexCursor(db)).toEqual(last);

    // Up to a cursor, only what the tracking has read: here, the first commit.
    const firstCommit = stored[3];
    if (firstCommit === undefined) throw new Error('four events in the first commit');
    const early = await accountEventsUpTo(db, dialect, workspaceId, ['acme'], {
      txid: firstCommit.txid,
      seq: firstCommit.seq,
    });
    expect(early.get('acme')?.map((e) => e.message_id)).toEqual(['a1', 'a2', 'a3']);

    // A bare instant: everything at it is on the page before.
    expect(
      (
        await accountTimeline(db, dialect, workspaceId, 'acme', {
          limit: 100,
          before: { timestamp: at(5) },
        })
      ).map((row) => row.message_id),
    ).toEqual(
      newestFirst.filter((id) => (acme.find((e) => e.message_id === id)?.timestamp ?? '') < at(5)),
    );
  });

  it('tells apart accounts whose refs are the same', async () => {
    const { db, dialect } = use();
    const workspaceId = (await makeWorkspace(db)).id;
    const otherWorkspaceId = (await makeWorkspace(db)).id;
    await insertEvents(db, dialect, eventsOf(workspaceId, otherWorkspaceId));
    const stored = await eventsAfter(db, dialect, { txid: '0', seq: 0 }, 1000);
    const last = stored.at(-1);
    if (last === undefined) throw new Error('events stored');
    await indexAccountEvents(db, dialect, last, T0);
    // As if globex's ref, and the other workspace's acme's, were acme's.
    const acmeRef = accountRef(workspaceId, 'acme');
    for (const [workspace, account] of [
      [workspaceId, 'globex'],
      [otherWorkspaceId, 'acme'],
    ] as const) {
      await db
        .updateTable('account_events')
        .set({ account_ref: acmeRef })
        .where('account_ref', '=', accountRef(workspace, account))
        .execute();
    }
    const ours = stored
      .filter((e) => e.workspace_id === workspaceId && e.account_key === 'acme')
      .map((e) => e.message_id);
    const timeline = await accountTimeline(db, dialect, workspaceId, 'acme', { limit: 100 });
    expect(timeline.map((e) => e.message_id).sort()).toEqual([...ours].sort());
    const read = await accountEventsUpTo(db, dialect, workspaceId, ['acme'], last);
    expect(
      read
        .get('acme')
        ?.map((e) => e.message_id)
        .sort(),
    ).toEqual([...ours].sort());
  });

  it('is kept by the tracker, up to what it has read', async () => {
    const server = await startTestServer(engine);
    try {
      const space = await trackingWorkspace(server);
      const sent = await call(server, 'POST', '/v1/batch', {
        headers: { authorization: basicAuth(space.writeKey) },
        body: {
          batch: ['s1', 's2', 's3'].map((messageId, i) => ({
            type: 'track',
            messageId,
            userId: 'ada',
            event: 'Contact Synced',
            context: { groupId: i === 2 ? 'globex' : 'acme' },
            timestamp: at(i),
          })),
        },
      });
      expect(sent.status, sent.text).toBe(200);
      await server.app.tracker.settled();
      // Between its runs (every few seconds) the index lags; stopping brings it up.
      await server.app.tracker.stop();
      const { db, dialect } = server.database;
      const stored = await eventsAfter(db, dialect, { txid: '0', seq: 0 }, 10);
      const last = stored.at(-1);
      expect(await accountIndexCursor(db)).toEqual({ txid: last?.txid, seq: last?.seq });
      expect(await indexedOf(db, space.workspace.id)).toEqual(entriesOf(stored));
    } finally {
      await server.close();
    }
  });

  it('folds the events stored a row each into batches, with the cursors and the index', async () => {
    const fresh = await createTestDatabase(engine, { migrate: false });
    try {
      const { db, dialect } = fresh;
      const before = Object.fromEntries(
        Object.entries(migrations).filter(([name]) => name < '0008'),
      );
      await migrateToLatest(fresh, before);
      const workspaceId = await makeWorkspaceBeforeRefs(db);
      const otherWorkspaceId = await makeWorkspaceBeforeRefs(db);
      // As the ingestion stored them then, a row an event: more than one page of the
      // migrations, received at a few instants (each run of them a batch).
      const busy = Array.from({ length: 5_400 }, (_, i) => ({
        ...(eventsOf(workspaceId, otherWorkspaceId)[0] as NewEvent),
        message_id: `busy-${i}`,
        account_key: i % 10 === 0 ? null : `busy-${i % 7}`,
        timestamp: at(10 + (i % 30)),
        received_at: at(70 + Math.floor(i / 1_000)),
      }));
      const all = [...eventsOf(workspaceId, otherWorkspaceId), ...busy];
      for (let i = 0; i < all.length; i += 200) {
        const rows = all.slice(i, i + 200).map(
          (e) => sql`(${e.workspace_id}, ${e.message_id}, ${e.type}, ${e.event}, ${e.account_key},
            ${e.user_id}, ${e.anonymous_id}, ${e.timestamp}, ${e.received_at}, ${e.payload})`,
        );
        await sql`insert into events (workspace_id, message_id, type, event, account_key, user_id,
          anonymous_id, timestamp, received_at, payload) values ${sql.join(rows)}`.execute(db);
      }
      const { rows: old } = await sql<{ txid: string; seq: number; message_id: string }>`
        select cast(txid as text) as txid, seq, message_id from events
        order by txid, seq`.execute(db);
      const cursorAt = async (name: string, index: number) => {
        const row = old[index];
        if (row === undefined) throw new Error(`no event ${index}`);
        await sql`update tracking_cursor set txid = ${row.txid}, seq = ${row.seq}
          where name = ${name}`.execute(db);
        return row.message_id;
      };
      // The index stands inside a batch, the tracking further on.
      const indexedTo = await cursorAt('account_events', 2_500);
      const trackedTo = await cursorAt('events', 4_000);
      await migrateToLatest(fresh);

      // The same events, in the same order, each once.
      const stored = await storedEvents(db);
      const fields = ({ seq: _, txid: __, ...event }: StoredEvent) => event;
      expect(stored.map(fields)).toEqual(all);
      // Each cursor on the same event as before.
      const cursorOn = async (name: string) => {
        const cursor = await readNamedCursor(db, name);
        return stored.find((e) => e.seq === cursor.seq && e.txid === cursor.txid)?.message_id;
      };
      expect(await cursorOn('events')).toBe(trackedTo);
      expect(await cursorOn('account_events')).toBe(indexedTo);
      // The index holds the batches up to its cursor's, whole.
      const cursor = await accountIndexCursor(db);
      const indexed = stored.filter((e) => batchOf(e.seq) <= batchOf(cursor.seq));
      expect(await indexedOf(db)).toEqual(entriesOf(indexed));
      // The rest, as the tracker brings the index up; nothing twice.
      const last = stored.at(-1) as StoredEvent;
      expect(await indexAccountEvents(db, dialect, last, T0)).toBe(
        entriesOf(stored).length - entriesOf(indexed).length,
      );
      expect(await indexedOf(db)).toEqual(entriesOf(stored));
      expect(await indexAccountEvents(db, dialect, last, T0)).toBe(0);
      // A call stored before is still known by its message id.
      const retried = await insertEvents(db, dialect, [all[0] as NewEvent, all[3] as NewEvent]);
      expect(retried.seqs).toEqual([null, null]);
    } finally {
      await fresh.drop();
    }
  });
});

/** The index's entries, in batch and ref order (of one workspace). */
async function indexedOf(db: Db, workspaceId?: string) {
  const rows = await db
    .selectFrom('account_events')
    .innerJoin('event_batches', 'event_batches.id', 'account_events.batch')
    .select([
      'account_events.account_ref',
      'account_events.day',
      'account_events.at',
      'account_events.batch',
      'account_events.oldest',
    ])
    .$if(workspaceId !== undefined, (q) =>
      q.where('event_batches.workspace_id', '=', workspaceId ?? ''),
    )
    .execute();
  return rows
    .map((row) => ({
      account_ref: Number(row.account_ref),
      day: Number(row.day),
      at: Number(row.at),
      batch: Number(row.batch),
      oldest: Number(row.oldest),
    }))
    .sort((a, b) => a.batch - b.batch || a.account_ref - b.account_ref);
}

/**
 * What the index holds for some events: an entry for each account of each batch, with its ref,
 * the day and time in ms of its newest event there, and the time of its oldest.
 */
function entriesOf(events: readonly StoredEvent[]) {
  const entries = new Map<string, ReturnType<typeof entryOf>>();
  for (const e of events) {
    if (e.account_key === null) continue;
    const key = `${batchOf(e.seq)} ${e.workspace_id} ${e.account_key}`;
    const ms = Date.parse(e.timestamp);
    const known = entries.get(key);
    entries.set(
      key,
      known === undefined
        ? entryOf(e)
        : {
            ...known,
            day: Math.floor(Math.max(known.at, ms) / 86_400_000),
            at: Math.max(known.at, ms),
            oldest: Math.min(known.oldest, ms),
          },
    );
  }
  return [...entries.values()].sort((a, b) => a.batch - b.batch || a.account_ref - b.account_ref);
}

function entryOf(e: StoredEvent) {
  const ms = Date.parse(e.timestamp);
  return {
    account_ref: accountRef(e.workspace_id, e.account_key ?? ''),
    day: Math.floor(ms / 86_400_000),
    at: ms,
    batch: batchOf(e.seq),
    oldest: ms,
  };
}
