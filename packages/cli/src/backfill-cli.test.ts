import { randomUUID } from 'node:crypto';
import {
  emptyMetricState,
  initialProgress,
  programDefinitionSchema,
  storedMetricState,
} from '@waymark/core';
import {
  createTestDatabase,
  insertEvents,
  makeWorkspace,
  progressRow,
  storedEvents,
  type TestDatabase,
  testEngines,
} from '@waymark/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './testing/built-cli.js';

const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

/** Two synced contacts complete `sync` automatically; `review` follows, for the CSM. */
const program = (key: string) =>
  programDefinitionSchema.parse({
    key,
    name: `Program ${key}`,
    phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 60 }],
    milestones: [
      {
        key: 'sync',
        title: 'Contacts synced',
        phase: 'all',
        targetDay: 14,
        verification: ['auto'],
        criteria: 'event_count("Contact Synced") >= 2',
      },
      {
        key: 'review',
        title: 'Business review',
        phase: 'all',
        targetDay: 30,
        dependsOn: ['sync'],
        verification: ['csm'],
      },
    ],
  });

beforeAll(assertBuilt);

describe.each(testEngines())('waymark backfill [%s]', (engine) => {
  let database: TestDatabase;
  let env: Record<string, string | undefined>;
  const at = daysAgo(1);

  const addWorkspace = async (slug: string) =>
    (await makeWorkspace(database.db, { slug, name: slug, timeZone: 'UTC' })).id;

  async function addProgram(workspaceId: string, key: string): Promise<string> {
    const programId = randomUUID();
    const versionId = randomUUID();
    await database.db
      .insertInto('programs')
      .values({
        id: programId,
        workspace_id: workspaceId,
        key,
        name: key,
        created_at: at,
        updated_at: at,
        archived_at: null,
      })
      .execute();
    await database.db
      .insertInto('program_versions')
      .values({
        id: versionId,
        workspace_id: workspaceId,
        program_id: programId,
        version: 1,
        status: 'published',
        definition: JSON.stringify(program(key)),
        definition_hash: `h-${key}`,
        published_at: at,
        created_at: at,
      })
      .execute();
    return versionId;
  }

  /**
   * An account enrolled ten days ago whose metrics were kept before its synced contacts
   * counted: the events are stored and read by the tracking, the metrics are empty and no
   * rebuild is asked for, so only a backfill completes `sync`.
   */
  async function staleEnrollment(
    workspaceId: string,
    versionId: string,
    externalId: string,
  ): Promise<{ enrollmentId: string; decidedAt: string }> {
    const { db } = database;
    const accountId = randomUUID();
    const enrollmentId = randomUUID();
    const startedAt = daysAgo(10);
    await db
      .insertInto('accounts')
      .values({
        id: accountId,
        workspace_id: workspaceId,
        external_id: externalId,
        name: externalId,
        segment: null,
        owner_user_id: null,
        time_zone: null,
        traits: '{}',
        outcome: null,
        created_at: startedAt,
        updated_at: startedAt,
      })
      .execute();
    await db
      .insertInto('enrollments')
      .values({
        id: enrollmentId,
        workspace_id: workspaceId,
        account_id: accountId,
        program_version_id: versionId,
        started_at: startedAt,
        go_live_date: null,
        owner_user_id: null,
        variant: null,
        status: 'active',
        created_at: startedAt,
        updated_at: startedAt,
      })
      .execute();
    // `sync` open, `review` locked behind it: every program here has those two milestones.
    await db
      .insertInto('milestone_progress')
      .values(
        initialProgress(program('any'), startedAt, { segment: null }).map((p) =>
          progressRow(workspaceId, enrollmentId, p, startedAt),
        ),
      )
      .execute();
    await db
      .insertInto('enrollment_metrics')
      .values({
        enrollment_id: enrollmentId,
        workspace_id: workspaceId,
        state: JSON.stringify(storedMetricState(emptyMetricState())),
        rebuild_requested_at: null,
        updated_at: startedAt,
      })
      .execute();
    const times = [daysAgo(6), daysAgo(4), daysAgo(3)];
    await insertEvents(
      db,
      database.dialect,
      times.map((timestamp, i) => ({
        workspace_id: workspaceId,
        message_id: `${externalId}-${i}`,
        type: 'track',
        event: 'Contact Synced',
        account_key: externalId,
        user_id: 'ada',
        anonymous_id: null,
        timestamp,
        received_at: timestamp,
        payload: JSON.stringify({ type: 'track', event: 'Contact Synced', userId: 'ada' }),
      })),
    );
    // The tracking has read them already.
    const last = (await storedEvents(db)).at(-1);
    if (last === undefined) throw new Error('no event stored');
    await db
      .updateTable('tracking_cursor')
      .set({ txid: last.txid, seq: last.seq })
      .where('name', '=', 'events')
      .execute();
    return { enrollmentId, decidedAt: times[1] ?? '' };
  }

  const milestones = async (enrollmentId: string) =>
    Object.fromEntries(
      (
        await database.db
          .selectFrom('milestone_progress')
          .select(['milestone_key', 'status', 'completed_at', 'completion_source'])
          .where('enrollment_id', '=', enrollmentId)
          .execute()
      ).map((row) => [row.milestone_key, row]),
    );

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    env = { ...database.env };
  });
  afterAll(async () => database.drop());

  it('recomputes stale enrollments from the stored events and completes what they met', async () => {
    const workspaceId = await addWorkspace('only-one');
    const onboarding = await addProgram(workspaceId, 'onboarding');
    const expansion = await addProgram(workspaceId, 'expansion');
    const acme = await staleEnrollment(workspaceId, onboarding, 'acme');
    const globex = await staleEnrollment(workspaceId, expansion, 'globex');
    expect((await milestones(acme.enrollmentId)).sync?.status).toBe('open');

    // Only the named program's enrollments.
    const first = await runCli(['backfill', '--program', 'onboarding'], env);
    expect(first.stderr).toContain(
      '✓ rebuilt 1 enrollment in only-one, program onboarding: 1 milestone completed',
    );
    expect(first.stderr).toMatch(/rebuilding… 1\/1 enrollments/);
    expect(first.code, first.stderr).toBe(0);
    expect(await milestones(acme.enrollmentId)).toMatchObject({
      // At the time of the second synced contact, the one that met the criteria.
      sync: { status: 'completed', completion_source: 'automatic', completed_at: acme.decidedAt },
      review: { status: 'open' },
    });
    expect((await milestones(globex.enrollmentId)).sync?.status).toBe('open');

    // Every program; a completed milestone stays completed.
    const all = await runCli(['backfill'], env);
    expect(all.stderr).toContain('✓ rebuilt 2 enrollments in only-one: 1 milestone completed');
    expect(all.code, all.stderr).toBe(0);
    expect(await milestones(globex.enrollmentId)).toMatchObject({
      sync: { status: 'completed', completed_at: globex.decidedAt },
    });
    expect(await milestones(acme.enrollmentId)).toMatchObject({
      sync: { status: 'completed', completed_at: acme.decidedAt },
    });
    const pending = await database.db
      .selectFrom('enrollment_metrics')
      .select('enrollment_id')
      .where('rebuild_requested_at', 'is not', null)
      .execute();
    expect(pending).toEqual([]);
  });

  it('says so when there is nothing to rebuild, and refuses an unknown program', async () => {
    await addProgram(await addWorkspace('quiet'), 'onboarding');
    const none = await runCli(['backfill', '--workspace', 'quiet'], env);
    expect(none.stderr).toContain('✓ no active enrollments to rebuild in quiet');
    expect(none.code).toBe(0);
    const unknown = await runCli(['backfill', '--workspace', 'quiet', '--program', 'nope'], env);
    expect(unknown.stderr).toContain('✗ no program nope in quiet');
    expect(unknown.code).toBe(1);
  });

  it('needs --workspace once there are several workspaces', async () => {
    const refused = await runCli(['backfill'], env);
    expect(refused.stderr).toContain('name one with --workspace <slug>');
    expect(refused.code).toBe(1);
    const unknown = await runCli(['backfill', '--workspace', 'nowhere'], env);
    expect(unknown.stderr).toContain('✗ no workspace with the slug nowhere');
    expect(unknown.code).toBe(1);
  });

  it('is listed in the help, with the retention variable', async () => {
    const help = await runCli(['--help'], env);
    expect(help.stdout).toContain('backfill');
    expect(help.stdout).toContain('WAYMARK_EVENT_RETENTION_DAYS');
  });
});
