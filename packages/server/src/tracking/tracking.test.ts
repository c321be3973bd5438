import { type ProgramDefinition, programDefinitionSchema } from '@waymark/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCount } from '../db/codec.js';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import { storedEvents } from '../testing/stored-events.js';
import {
  call,
  type Member,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import {
  basicAuth,
  type TrackingWorkspace,
  trackedProgram,
  trackingWorkspace,
} from '../testing/tracking.js';
import { insertEvents } from './events-insert.repo.js';
import { requestRebuild } from './tracking.repo.js';

/**
 * What the tracking makes of the events, through the HTTP API: `trackedProgram` completes
 * `sync` at the third "Contact Synced" {status: ok} since the enrollment started, then
 * `activation` once two users were active within a week; `review` is the CSM's.
 *
 * Every call carries an explicit `timestamp` and no `sentAt`, so its time is exactly the one
 * given (the server's clock stands at T0, after all of them).
 */

const HOUR = 3_600_000;
const SYNC_COUNT = 'event_count:Contact Synced:{"status":"ok"}:all';
const at = (hoursBeforeT0: number) => new Date(Date.parse(T0) - hoursBeforeT0 * HOUR).toISOString();

/** A CSM's kickoff opens an automatic milestone. */
const gatedProgram: ProgramDefinition = programDefinitionSchema.parse({
  key: 'gated',
  name: 'Gated onboarding',
  phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 90 }],
  milestones: [
    {
      key: 'kickoff',
      title: 'Kickoff held',
      phase: 'all',
      targetDay: 3,
      verification: ['csm'],
    },
    {
      key: 'sync',
      title: 'Contacts synced',
      phase: 'all',
      targetDay: 14,
      dependsOn: ['kickoff'],
      verification: ['auto'],
      criteria: 'event_count("Contact Synced", {"status": "ok"}) >= 3',
    },
  ],
});

interface Milestone {
  key: string;
  status: string;
  openedAt: string | null;
  completedAt: string | null;
  source: string | null;
  evidence: {
    metrics: Record<string, unknown>;
    event: { messageId: string; timestamp: string } | null;
  } | null;
}

describe.each(testEngines())('tracking milestones from events [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;
  let csm: Member;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
    csm = await signedInMember(server, space.workspace, 'csm');
    expect(trackedProgram.milestones.map((m) => m.key)).toEqual(['sync', 'activation', 'review']);
  });
  afterAll(async () => server.close());

  let sequence = 0;
  /** A "Contact Synced" call for an account, at a given time. */
  const synced = (
    account: string,
    time: string,
    { user = 'ada', status = 'ok', messageId = `${account}-${++sequence}` } = {},
  ) => ({
    type: 'track',
    event: 'Contact Synced',
    userId: user,
    messageId,
    properties: { status },
    context: { groupId: account },
    timestamp: time,
  });

  async function send(batch: object[], space_: TrackingWorkspace = space) {
    const res = await call(server, 'POST', '/v1/batch', {
      headers: { authorization: basicAuth(space_.writeKey) },
      body: { batch },
    });
    expect(res.status, res.text).toBe(200);
    return res.json as { received: number; stored: number };
  }

  async function enroll(
    accountId: string,
    startedAt: string,
    programKey = 'tracked',
    as: Member = space.admin,
  ): Promise<string> {
    const res = await call(server, 'POST', `/api/v1/accounts/${accountId}/enrollments`, {
      as,
      body: { programKey, startedAt },
    });
    expect(res.status, res.text).toBe(201);
    return res.json.id as string;
  }

  async function milestones(accountId: string, as: Member = space.admin) {
    const res = await call(server, 'GET', `/api/v1/accounts/${accountId}/progress`, { as });
    expect(res.status, res.text).toBe(200);
    expect(res.json.enrollments).toHaveLength(1);
    const list = res.json.enrollments[0].milestones as Milestone[];
    return Object.fromEntries(list.map((m) => [m.key, m])) as Record<string, Milestone>;
  }

  async function metricsOf(enrollmentId: string) {
    const row = await server.database.db
      .selectFrom('enrollment_metrics')
      .select(['state', 'rebuild_requested_at'])
      .where('enrollment_id', '=', enrollmentId)
      .executeTakeFirstOrThrow();
    expect(row.rebuild_requested_at).toBeNull();
    return JSON.parse(row.state) as { counts: Record<string, number> };
  }

  /** How many times a milestone was completed, as the audit trail says. */
  async function completions(workspaceId: string, enrollmentId: string, key: string) {
    const row = await server.database.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('workspace_id', '=', workspaceId)
      .where('action', '=', 'milestone.completed')
      .where('entity_id', '=', `${enrollmentId}/${key}`)
      .executeTakeFirstOrThrow();
    return toCount(row.count);
  }

  const settled = () => server.app.tracker.settled();

  it('keeps events for an account not created yet, and completes its milestones from them once it is enrolled', async () => {
    const key = 'early-co';
    const deciding = synced(key, at(70), { user: 'grace' });
    const stored = await send([
      synced(key, at(100), { user: 'ada' }),
      synced(key, at(95), { user: 'ada', status: 'failed' }),
      // A user put in the account by a group call; the account is still unknown.
      { type: 'group', userId: 'linus', groupId: key, messageId: `${key}-g`, timestamp: at(99) },
      {
        type: 'track',
        event: 'Contact Synced',
        userId: 'linus',
        messageId: `${key}-linus`,
        properties: { status: 'ok' },
        timestamp: at(90),
      },
      deciding,
    ]);
    expect(stored).toMatchObject({ received: 5, stored: 5 });
    await settled();

    const kept = (await storedEvents(server.database.db, space.workspace.id)).filter(
      (e) => e.account_key === key,
    );
    expect(kept).toHaveLength(5);
    const known = await server.database.db
      .selectFrom('accounts')
      .select('id')
      .where('workspace_id', '=', space.workspace.id)
      .where('external_id', '=', key)
      .execute();
    expect(known).toEqual([]);

    const account = await makeAccount(server.database.db, space.workspace.id, { externalId: key });
    const enrollmentId = await enroll(account.id, at(200));
    await settled();

    const progress = await milestones(account.id);
    // ok at 100 (ada), 90 (linus, through the group call) and 70 (grace): the third is it.
    expect(progress.sync).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: at(70),
      evidence: {
        metrics: { [SYNC_COUNT]: 3 },
        event: { messageId: deciding.messageId, timestamp: at(70) },
      },
    });
    // Three users within the week when sync completed, which opened activation.
    expect(progress.activation).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: at(70),
      evidence: { metrics: { 'active_users:604800': 3 } },
    });
    expect(progress.review?.status).toBe('open');
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(3);
    expect(await completions(space.workspace.id, enrollmentId, 'sync')).toBe(1);
  });

  it('completes a milestone a late event decides at the time it became true in time order, not at the late event or processing time', async () => {
    const key = 'late-co';
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId: key });
    const enrollmentId = await enroll(account.id, at(200));
    await settled();

    const first = synced(key, at(100));
    const last = synced(key, at(60));
    await send([first]);
    await settled();
    await send([last]);
    await settled();
    expect((await milestones(account.id)).sync?.status).toBe('open');
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(2);

    // Arrives last, happened between the two: the count reaches 3 at 60, with `last`.
    const late = synced(key, at(80), { user: 'grace' });
    await send([late]);
    await settled();

    const progress = await milestones(account.id);
    expect(progress.sync).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: at(60),
      evidence: { metrics: { [SYNC_COUNT]: 3 }, event: { messageId: last.messageId } },
    });
    expect(progress.activation).toMatchObject({ status: 'completed', completedAt: at(60) });
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(3);
    expect(await completions(space.workspace.id, enrollmentId, 'sync')).toBe(1);
    expect(await completions(space.workspace.id, enrollmentId, 'activation')).toBe(1);
  });

  it('completes a milestone at the late event’s own time when that is when it became true', async () => {
    const key = 'late-user-co';
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId: key });
    const enrollmentId = await enroll(account.id, at(200));
    await settled();

    // ada alone: sync completes at 80 and opens activation, which one user cannot meet.
    await send([synced(key, at(100)), synced(key, at(90)), synced(key, at(80))]);
    await settled();
    await send([synced(key, at(20))]);
    await settled();
    let progress = await milestones(account.id);
    expect(progress.sync).toMatchObject({ status: 'completed', completedAt: at(80) });
    expect(progress.activation).toMatchObject({ status: 'open', openedAt: at(80) });

    // grace was active at 50, reported after ada's event at 20: from 50 on, two users.
    const late = {
      type: 'page',
      userId: 'grace',
      messageId: `${key}-grace`,
      context: { groupId: key },
      timestamp: at(50),
    };
    await send([late]);
    await settled();
    progress = await milestones(account.id);
    expect(progress.activation).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: at(50),
      evidence: {
        metrics: { 'active_users:604800': 2 },
        event: { messageId: late.messageId, timestamp: at(50) },
      },
    });
    expect(progress.sync?.completedAt).toBe(at(80));
    expect(await completions(space.workspace.id, enrollmentId, 'sync')).toBe(1);
    expect(await completions(space.workspace.id, enrollmentId, 'activation')).toBe(1);
  });

  it('completes an automatic milestone a CSM’s completion opens, when earlier events already meet it', async () => {
    const gated = await trackingWorkspace(server, gatedProgram);
    const gatedCsm = await signedInMember(server, gated.workspace, 'csm');
    const key = 'gated-co';
    const account = await makeAccount(server.database.db, gated.workspace.id, {
      externalId: key,
    });
    const enrollmentId = await enroll(account.id, at(200), 'gated', gated.admin);
    const third = synced(key, at(80));
    await send([synced(key, at(100)), synced(key, at(90)), third], gated);
    await settled();
    let progress = await milestones(account.id, gated.admin);
    // Met, but locked behind the kickoff: nothing completes.
    expect(progress.sync?.status).toBe('locked');
    expect(progress.kickoff?.status).toBe('open');

    server.clock.advance(60_000);
    const now = server.clock();
    const done = await call(
      server,
      'POST',
      `/api/v1/enrollments/${enrollmentId}/milestones/kickoff/complete`,
      { as: gatedCsm, body: { evidence: { note: 'kickoff call held' } } },
    );
    expect(done.status, done.text).toBe(200);
    expect(done.json.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'milestone.completed', milestoneKey: 'kickoff' }),
        expect.objectContaining({ type: 'milestone.opened', milestoneKey: 'sync' }),
      ]),
    );

    await settled();
    progress = await milestones(account.id, gated.admin);
    expect(progress.kickoff).toMatchObject({ status: 'completed', source: 'csm' });
    // Not before it was opened: at the kickoff's completion, from the events already there.
    expect(progress.sync).toMatchObject({
      status: 'completed',
      source: 'automatic',
      openedAt: now,
      completedAt: now,
      evidence: { metrics: { [SYNC_COUNT]: 3 }, event: { messageId: third.messageId } },
    });
    expect(await completions(gated.workspace.id, enrollmentId, 'sync')).toBe(1);
    expect(await completions(gated.workspace.id, enrollmentId, 'kickoff')).toBe(1);
  });

  it('keeps a rebuild asked for while newer metrics wait in memory, and counts every event once', async () => {
    const key = 'rebuild-co';
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId: key });
    const enrollmentId = await enroll(account.id, at(300));
    await send([synced(key, at(50), { user: 'ada' })]);
    await settled();
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(1);

    // Asked for as the API asks (a manual completion, a new version), between two checkpoints.
    await send([synced(key, at(40), { user: 'ada' })]);
    await requestRebuild(server.database.db, space.workspace.id, [enrollmentId], at(0));
    await send([synced(key, at(30), { user: 'ada' })]);
    await settled();

    // metricsOf also checks the request was served, not overwritten by a checkpoint.
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(3);
    expect((await milestones(account.id)).sync).toMatchObject({
      status: 'completed',
      completedAt: at(30),
    });
    expect(await completions(space.workspace.id, enrollmentId, 'sync')).toBe(1);
  });

  it('never completes a milestone twice, whatever the deciding events’ repeats, batches and rebuilds', async () => {
    const key = 'twice-co';
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId: key });
    const enrollmentId = await enroll(account.id, at(200));
    await settled();

    const deciding = [
      synced(key, at(100)),
      synced(key, at(90), { user: 'grace' }),
      synced(key, at(80)),
    ];
    // The deciding batch, a retry of it, and more deciding events, in parallel requests.
    await Promise.all([
      send(deciding),
      send(deciding),
      send([synced(key, at(85)), synced(key, at(75), { user: 'linus' })]),
      send([synced(key, at(70)), synced(key, at(65))]),
    ]);
    await settled();
    // Then each deciding call on its own, again, and new calls one batch at a time.
    for (const one of deciding) await send([one]);
    for (let i = 0; i < 3; i++) {
      await send([synced(key, at(60 - i)), synced(key, at(110 + i))]); // later, and late
      await settled();
    }

    let progress = await milestones(account.id);
    expect(progress.sync?.status).toBe('completed');
    expect(progress.activation?.status).toBe('completed');
    expect(progress.review?.status).toBe('open');
    const syncAt = progress.sync?.completedAt;
    const activationAt = progress.activation?.completedAt;

    // A rebuild from every stored event (a CSM's change requests one) completes nothing again.
    const done = await call(
      server,
      'POST',
      `/api/v1/enrollments/${enrollmentId}/milestones/review/complete`,
      { as: csm, body: { evidence: { note: 'business review held' } } },
    );
    expect(done.status, done.text).toBe(200);
    await settled();
    await send([synced(key, at(10)), synced(key, at(120))]);
    await settled();

    progress = await milestones(account.id);
    expect(progress.sync).toMatchObject({ status: 'completed', completedAt: syncAt });
    expect(progress.activation).toMatchObject({ status: 'completed', completedAt: activationAt });
    expect(progress.review).toMatchObject({ status: 'completed', source: 'csm' });
    for (const milestone of ['sync', 'activation', 'review']) {
      expect(await completions(space.workspace.id, enrollmentId, milestone), milestone).toBe(1);
    }
    const distinct = (await storedEvents(server.database.db, space.workspace.id)).filter(
      (e) => e.account_key === key,
    ).length;
    expect(distinct).toBe(3 + 2 + 2 + 6 + 2);
    expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(distinct);
  });

  it('tells the heap of the thread it tracks on', async () => {
    await send([synced('heap-co', at(10))]);
    await settled();
    const heap = await server.app.tracker.threadHeap();
    expect(heap).not.toBeNull();
    expect(heap?.used).toBeGreaterThan(0);
    expect(heap?.total).toBeGreaterThanOrEqual(heap?.used ?? 0);
  });

  // Only PostgreSQL lets another transaction hold events back (SQLite has one writer).
  if (engine === 'postgres')
    it('waits in settled() for events that an older open transaction keeps from the tracking', async () => {
      const key = 'behind-co';
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: key,
      });
      await enroll(account.id, at(200));
      await settled();
      // A transaction that began before the events were stored: until it ends, PostgreSQL's
      // tracking must not read past them (it could commit events that sort before them).
      const older = new pg.Client({ connectionString: server.database.env.DATABASE_URL });
      await older.connect();
      try {
        await older.query('begin');
        await older.query('select pg_current_xact_id()');
        await send([synced(key, at(100)), synced(key, at(90)), synced(key, at(80))]);
        let ended = false;
        const end = setTimeout(() => {
          ended = true;
          void older.query('commit');
        }, 300);
        await settled();
        clearTimeout(end);
        expect(ended).toBe(true);
      } finally {
        await older.end();
      }
      expect((await milestones(account.id)).sync).toMatchObject({
        status: 'completed',
        completedAt: at(80),
      });
    });

  // SQLite knows from each commit whether it follows the tracking's position; PostgreSQL
  // counts what is committed in between, and a count that disagrees means reading it back.
  if (engine === 'postgres')
    it('tracks an event another writer stored between two commits handed over to the tracking', async () => {
      const key = 'between-co';
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: key,
      });
      const enrollmentId = await enroll(account.id, at(200));
      await settled();
      // The tracking waits on the cursor this transaction locks until all three are stored.
      const holder = new pg.Client({ connectionString: server.database.env.DATABASE_URL });
      await holder.connect();
      const deciding = synced(key, at(80));
      try {
        await holder.query('begin');
        await holder.query("select seq from tracking_cursor where name = 'events' for update");
        await send([synced(key, at(100))]);
        // Stored outside the ingestion, so never handed over.
        await insertEvents(server.database.db, server.database.dialect, [
          {
            workspace_id: space.workspace.id,
            message_id: `${key}-elsewhere`,
            type: 'track',
            event: 'Contact Synced',
            account_key: key,
            user_id: 'grace',
            anonymous_id: null,
            timestamp: at(90),
            received_at: T0,
            payload: JSON.stringify({ properties: { status: 'ok' } }),
          },
        ]);
        await send([deciding]);
        await holder.query('commit');
      } finally {
        await holder.end();
      }
      await settled();
      expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(3);
      expect((await milestones(account.id)).sync).toMatchObject({
        status: 'completed',
        completedAt: at(80),
        evidence: { event: { messageId: deciding.messageId } },
      });
    });

  describe('event counts since the enrollment started', () => {
    const start = at(100);
    const beforeStart = (key: string) => [
      synced(key, at(150)),
      synced(key, at(120), { user: 'grace' }),
      synced(key, new Date(Date.parse(start) - 1).toISOString()),
    ];
    // One at the very start (it counts), one after.
    const fromStart = (key: string) => [synced(key, start), synced(key, at(90))];

    async function expectCountsFromStart(accountId: string, enrollmentId: string, key: string) {
      expect((await milestones(accountId)).sync?.status).toBe('open');
      expect((await metricsOf(enrollmentId)).counts[SYNC_COUNT]).toBe(2);

      const third = synced(key, at(70));
      await send([third]);
      await settled();
      expect((await milestones(accountId)).sync).toMatchObject({
        status: 'completed',
        completedAt: at(70),
        evidence: { metrics: { [SYNC_COUNT]: 3 }, event: { messageId: third.messageId } },
      });
    }

    it('leaves out events before the start, tracked as they arrive', async () => {
      const key = 'prestart-live';
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: key,
      });
      const enrollmentId = await enroll(account.id, start);
      await settled();
      await send([...beforeStart(key), ...fromStart(key)]);
      await settled();
      await expectCountsFromStart(account.id, enrollmentId, key);
    });

    it('leaves out events before the start, sent before the enrollment (rebuilt)', async () => {
      const key = 'prestart-rebuilt';
      await send([...beforeStart(key), ...fromStart(key)]);
      await settled();
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: key,
      });
      const enrollmentId = await enroll(account.id, start);
      await settled();
      await expectCountsFromStart(account.id, enrollmentId, key);
    });

    it('leaves out events before the start that arrive late', async () => {
      const key = 'prestart-late';
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: key,
      });
      const enrollmentId = await enroll(account.id, start);
      await settled();
      await send(fromStart(key));
      await settled();
      for (const event of beforeStart(key)) {
        await send([event]);
        await settled();
      }
      await expectCountsFromStart(account.id, enrollmentId, key);
    });
  });
});
