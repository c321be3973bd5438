import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteFile } from '../db/sqlite.js';
import { makeAccount } from '../testing/factories.js';
import { call, startTestServer, type TestServer } from '../testing/test-server.js';
import {
  basicAuth,
  oneMilestoneProgram,
  type TrackingWorkspace,
  trackingWorkspace,
} from '../testing/tracking.js';
import { createTracker } from './tracker.js';

/** Completes once the account is on the enterprise plan and has taken one setup step. */
const program = oneMilestoneProgram(
  { key: 'enterprise', name: 'Enterprise onboarding', endDay: 90 },
  {
    key: 'setup',
    title: 'Set up',
    criteria: 'traits.plan == "enterprise" && event_count("Setup Step") >= 1',
  },
);

/**
 * On SQLite the tracking reads and computes without the write lock, then writes only if none of
 * its inputs changed meanwhile (decision 0015). PostgreSQL's tracking reads and writes in one
 * transaction, which this does not apply to.
 */
describe('the tracking of an SQLite file, when its inputs change while it computes', () => {
  let server: TestServer;
  let space: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    space = await trackingWorkspace(server, program);
  });
  afterAll(async () => server.close());

  /** A tracker of the test server's database, which shows `onSelect` each select it sends. */
  function watchedTracker(onSelect: (query: string) => void) {
    const watch: KyselyPlugin = {
      transformQuery({ node }) {
        if (node.kind === 'SelectQueryNode') onSelect(JSON.stringify(node));
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    return createTracker({
      database: { db: server.database.db.withPlugin(watch), dialect: server.database.dialect },
      clock: server.clock,
      log: server.app.log,
    });
  }

  /** An account on the growth plan, enrolled in the program. */
  async function enrolledOnGrowth(externalId: string) {
    const account = await makeAccount(server.database.db, space.workspace.id, {
      externalId,
      traits: { plan: 'growth' },
    });
    const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: space.admin,
      body: { programKey: 'enterprise' },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    return account;
  }

  it('forgets what it computed and computes again from what is stored now', async () => {
    const file = server.database.sqlite?.file;
    if (file === undefined) throw new Error('the test server runs on an SQLite file');
    // This test's tracker alone follows the events.
    await server.app.tracker.stop();
    const account = await enrolledOnGrowth('upgrading-co');

    // The account is upgraded by another connection just after the tracking read its progress,
    // while it computes the chunk with the plan it read before: growth.
    const other = openSqliteFile(file);
    let armed = false;
    let upgrades = 0;
    const tracker = watchedTracker((query) => {
      if (query.includes('"milestone_progress"') && armed && upgrades === 0) {
        upgrades += 1;
        other
          .prepare('update accounts set traits = ? where id = ?')
          .run(JSON.stringify({ plan: 'enterprise' }), account.id);
      }
    });
    try {
      await tracker.settled(); // the new enrollment's metrics, built from no events
      const sent = await call(server, 'POST', '/v1/track', {
        headers: { authorization: basicAuth(space.writeKey) },
        body: { userId: 'ada', event: 'Setup Step', context: { groupId: 'upgrading-co' } },
      });
      expect(sent.status, sent.text).toBe(200);
      armed = true;
      await tracker.settled();
    } finally {
      await tracker.stop();
      other.close();
    }
    expect(upgrades).toBe(1);

    // Computed with growth, the chunk would have left `setup` open: its writes were dropped,
    // and the chunk computed again with enterprise.
    const progress = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
      as: space.admin,
    });
    expect(progress.json.enrollments[0].milestones[0]).toMatchObject({
      key: 'setup',
      status: 'completed',
      source: 'automatic',
    });
    const completions = await server.database.db
      .selectFrom('audit_events')
      .select('action')
      .where('workspace_id', '=', space.workspace.id)
      .where('action', '=', 'milestone.completed')
      .execute();
    expect(completions).toHaveLength(1);
  });

  it('reads again what it keeps between chunks once anyone else changed it', async () => {
    server.app.tracker.start(); // stopped by the test before
    const account = await enrolledOnGrowth('kept-co');
    const setupStep = async () => {
      const sent = await call(server, 'POST', '/v1/track', {
        headers: { authorization: basicAuth(space.writeKey) },
        body: { userId: 'ada', event: 'Setup Step', context: { groupId: 'kept-co' } },
      });
      expect(sent.status, sent.text).toBe(200);
      await server.app.tracker.settled();
      const progress = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
        as: space.admin,
      });
      return progress.json.enrollments[0].milestones[0].status;
    };
    expect(await setupStep()).toBe('open'); // on growth: the account is kept as such
    await server.database.db
      .updateTable('accounts')
      .set({ traits: JSON.stringify({ plan: 'enterprise' }) })
      .where('id', '=', account.id)
      .execute();
    expect(await setupStep()).toBe('completed');
  });

  it('reads no rebuild flags for the metrics it keeps, until anyone else changes them', async () => {
    const file = server.database.sqlite?.file;
    if (file === undefined) throw new Error('the test server runs on an SQLite file');
    await server.app.tracker.stop();
    const account = await enrolledOnGrowth('flagged-co');
    // Reads of enrollments' rebuild flags (`metricsOf`), counted as they are sent.
    let flagReads = 0;
    const tracker = watchedTracker((query) => {
      const flags = ['"enrollment_metrics"', '"rebuild_requested_at"', '"in"'];
      if (flags.every((part) => query.includes(part))) flagReads += 1;
    });
    const other = openSqliteFile(file);
    const setupStep = async () => {
      const sent = await call(server, 'POST', '/v1/track', {
        headers: { authorization: basicAuth(space.writeKey) },
        body: { userId: 'ada', event: 'Setup Step', context: { groupId: 'flagged-co' } },
      });
      expect(sent.status, sent.text).toBe(200);
      flagReads = 0;
      await tracker.settled();
      return flagReads;
    };
    try {
      await tracker.settled();
      expect(await setupStep()).toBeGreaterThan(0); // read once
      expect(await setupStep()).toBe(0); // kept
      // A rebuild requested by another connection: the flag is read again, and honoured.
      other
        .prepare(
          `update enrollment_metrics set rebuild_requested_at = ?
            where enrollment_id = (select id from enrollments where account_id = ?)`,
        )
        .run(server.clock(), account.id);
      expect(await setupStep()).toBeGreaterThan(0);
    } finally {
      await tracker.stop();
      other.close();
    }
    const metrics = await server.database.db
      .selectFrom('enrollment_metrics')
      .innerJoin('enrollments', 'enrollments.id', 'enrollment_metrics.enrollment_id')
      .select(['enrollment_metrics.state', 'enrollment_metrics.rebuild_requested_at'])
      .where('enrollments.account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    expect(metrics.rebuild_requested_at).toBeNull();
    // Rebuilt from the three stored events, each counted once.
    expect(Object.values(JSON.parse(metrics.state).counts)).toEqual([3]);
    server.app.tracker.start();
  });

  it('counts every change to its inputs, and none to the events', async () => {
    const version = async () =>
      Number(
        (
          await server.database.db
            .selectFrom('tracking_version')
            .select('changes')
            .executeTakeFirstOrThrow()
        ).changes,
      );
    // Only the writes below, not the tracking's own (its checkpoints count too).
    await server.app.tracker.stop();
    const before = await version();
    const sent = await call(server, 'POST', '/v1/track', {
      headers: { authorization: basicAuth(space.writeKey) },
      body: { userId: 'ada', event: 'Report Viewed', context: { groupId: 'someone-new' } },
    });
    expect(sent.status, sent.text).toBe(200);
    expect(await version()).toBe(before);
    const account = await makeAccount(server.database.db, space.workspace.id);
    await server.database.db
      .updateTable('accounts')
      .set({ name: 'Renamed' })
      .where('id', '=', account.id)
      .execute();
    await server.database.db.deleteFrom('accounts').where('id', '=', account.id).execute();
    expect(await version()).toBe(before + 3);
    server.app.tracker.start();
  });
});
