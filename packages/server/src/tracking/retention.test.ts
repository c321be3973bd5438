import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildServer } from '../http/app.js';
import { createTestDatabase, type TestDatabase, testEngines } from '../testing/engines.js';
import { makeAccount, makeWorkspace, T0 } from '../testing/factories.js';
import { storedEvents } from '../testing/stored-events.js';
import { call, manualClock, startTestServer, type TestServer } from '../testing/test-server.js';
import { basicAuth, type TrackingWorkspace, trackingWorkspace } from '../testing/tracking.js';
import { indexAccountEvents } from './account-index.repo.js';
import { accountRef } from './account-ref.js';
import { batchOf } from './event-batches.js';
import { eventsAfter, type NewEvent, writeCursor } from './events.repo.js';
import { insertEvents } from './events-insert.repo.js';
import { deleteExpiredEvents, retentionCutoff } from './retention.js';

const DAY = 86_400_000;
const NOW = '2026-06-01T12:00:00.000Z';
const daysBefore = (days: number, from = NOW) =>
  new Date(Date.parse(from) - days * DAY).toISOString();

describe.each(testEngines())('raw event retention [%s]', (engine) => {
  let database: TestDatabase;
  let workspaceId: string;
  let made = 0;

  /** An event received `days` before NOW. */
  const event = (days: number): NewEvent => {
    made += 1;
    return {
      workspace_id: workspaceId,
      message_id: `m-${made}`,
      type: 'track',
      event: `Received ${days} days ago`,
      account_key: 'acme',
      user_id: 'ada',
      anonymous_id: null,
      timestamp: daysBefore(days + 1),
      received_at: daysBefore(days),
      payload: JSON.stringify({ type: 'track', event: `Received ${days} days ago` }),
    };
  };

  /** Moves the tracking cursor past every stored event, as the tracker does once it read them. */
  const trackAll = async () => {
    const { db, dialect } = database;
    const read = await eventsAfter(db, dialect, { txid: '0', seq: 0 }, 100_000);
    const last = read.at(-1);
    if (last === undefined) return;
    await writeCursor(db, { txid: last.txid, seq: last.seq }, NOW);
    await indexAccountEvents(db, dialect, { txid: last.txid, seq: last.seq }, NOW);
  };

  /** The batches of the events kept, or those the account index holds for acme. */
  const batchesIn = async (table: 'events' | 'account_events') =>
    table === 'events'
      ? [...new Set((await storedEvents(database.db, workspaceId)).map((e) => batchOf(e.seq)))]
      : (
          await database.db
            .selectFrom('account_events')
            .select('batch')
            .where('account_ref', '=', accountRef(workspaceId, 'acme'))
            .orderBy('batch')
            .execute()
        ).map((row) => Number(row.batch));

  const kept = async () => (await storedEvents(database.db, workspaceId)).map((e) => e.event);

  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => database.drop());
  // Each test starts from no events in a workspace of its own.
  beforeEach(async () => {
    for (const table of ['event_batches', 'event_ids', 'account_events'] as const) {
      await database.db.deleteFrom(table).execute();
    }
    workspaceId = (await makeWorkspace(database.db)).id;
  });

  it('keeps the index entries of kept events on the same account and day as expired ones', async () => {
    const { db, dialect } = database;
    // Both happened on one day; the second was received 39 days later (a late upload).
    const early = { ...event(40), event: 'On time' };
    const late = { ...event(1), event: 'Late', timestamp: early.timestamp };
    await insertEvents(db, dialect, [early, late]);
    await trackAll();
    expect(await batchesIn('account_events')).toHaveLength(2);
    expect(await deleteExpiredEvents(db, dialect, NOW, 30)).toBe(1);
    expect(await kept()).toEqual(['Late']);
    expect(await batchesIn('account_events')).toEqual(await batchesIn('events'));
  });

  it('deletes the events received before the cutoff, in bounded statements, and counts them', async () => {
    const { db, dialect } = database;
    await insertEvents(db, dialect, [
      event(45),
      event(44),
      event(40),
      event(31),
      event(30),
      event(29),
      event(1),
    ]);
    await trackAll();
    expect(retentionCutoff(NOW, 30)).toBe(daysBefore(30));
    expect(await batchesIn('account_events')).toEqual(await batchesIn('events'));

    // Chunks of two: two statements delete the four expired events, a third finds none left.
    expect(await deleteExpiredEvents(db, dialect, NOW, 30, { chunk: 2 })).toBe(4);
    // Received exactly at the cutoff is not older than it: kept.
    expect(await kept()).toEqual([
      'Received 30 days ago',
      'Received 29 days ago',
      'Received 1 days ago',
    ]);
    // The account index forgets them too.
    expect(await batchesIn('account_events')).toEqual(await batchesIn('events'));
    expect(await batchesIn('account_events')).toHaveLength(3);
    expect(await deleteExpiredEvents(db, dialect, NOW, 30)).toBe(0);
    // A day later the next one expires.
    const tomorrow = new Date(Date.parse(NOW) + DAY).toISOString();
    expect(await deleteExpiredEvents(db, dialect, tomorrow, 30)).toBe(1);
    expect(await kept()).toEqual(['Received 29 days ago', 'Received 1 days ago']);
  });

  it('never deletes an event the tracking has not read yet, however old', async () => {
    const { db, dialect } = database;
    await insertEvents(db, dialect, [event(100)]);
    await trackAll();
    await insertEvents(db, dialect, [event(90)]);
    expect(await deleteExpiredEvents(db, dialect, NOW, 30)).toBe(1);
    expect(await kept()).toEqual(['Received 90 days ago']);
    await trackAll();
    expect(await deleteExpiredEvents(db, dialect, NOW, 30)).toBe(1);
    expect(await kept()).toEqual([]);
  });

  it('refuses a retention that is not a positive whole number of days', async () => {
    const { db, dialect } = database;
    for (const days of [0, -1, 1.5, Number.NaN]) {
      await expect(deleteExpiredEvents(db, dialect, NOW, days)).rejects.toThrow(RangeError);
    }
  });

  it('runs when the server starts, with the retention the server was given', async () => {
    await insertEvents(database.db, database.dialect, [event(12), event(8)]);
    await trackAll();
    const logs: string[] = [];
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    const app = await buildServer({
      database,
      clock: manualClock(NOW),
      logStream,
      webRoot: '/nonexistent',
      eventRetentionDays: 10,
    });
    try {
      await app.ready();
      const deadline = Date.now() + 10_000;
      while ((await kept()).length > 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await kept()).toEqual(['Received 8 days ago']);
    } finally {
      await app.close();
    }
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'deleted expired raw events');
    expect(line).toMatchObject({ deleted: 1, retentionDays: 10 });
  });
});

describe.each(testEngines())('progress outlives the raw events [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
  });
  afterAll(async () => server.close());

  it('keeps completed milestones and metrics when the events that completed them are deleted', async () => {
    const account = await makeAccount(server.database.db, space.workspace.id, {
      externalId: 'acme',
    });
    const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: space.admin,
      body: { programKey: 'tracked', startedAt: daysBefore(2, T0) },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    const sent = await call(server, 'POST', '/v1/batch', {
      headers: { authorization: basicAuth(space.writeKey) },
      body: {
        batch: ['ada', 'grace', 'ada'].map((userId, i) => ({
          type: 'track',
          userId,
          event: 'Contact Synced',
          properties: { status: 'ok' },
          context: { groupId: 'acme' },
          timestamp: daysBefore(1 - i / 10, T0),
        })),
      },
    });
    expect(sent.status, sent.text).toBe(200);
    await server.app.tracker.settled();

    const progress = async () =>
      (
        await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, { as: space.admin })
      ).json.enrollments[0].milestones.map((m: { key: string; status: string }) => [
        m.key,
        m.status,
      ]);
    const before = await progress();
    expect(before).toEqual([
      ['sync', 'completed'],
      ['activation', 'completed'],
      ['review', 'open'],
    ]);
    const metrics = await server.database.db
      .selectFrom('enrollment_metrics')
      .select('state')
      .execute();

    const later = daysBefore(-31, T0);
    const { db, dialect } = server.database;
    expect(await deleteExpiredEvents(db, dialect, later, 30)).toBe(3);
    const timeline = await call(server, 'GET', `/api/v1/accounts/${account.id}/events`, {
      as: space.admin,
    });
    expect(timeline.json.events).toEqual([]);
    expect(await progress()).toEqual(before);
    expect(
      await server.database.db.selectFrom('enrollment_metrics').select('state').execute(),
    ).toEqual(metrics);
  });
});
