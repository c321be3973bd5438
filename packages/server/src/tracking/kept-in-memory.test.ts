import { describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import { call } from '../testing/test-server.js';
import { basicAuth, serverWithoutTracking } from '../testing/tracking.js';
import { createTracker } from './tracker.js';

const HOUR = 3_600_000;
const SYNC_COUNT = 'event_count:Contact Synced:{"status":"ok"}:all';
const at = (hoursBeforeT0: number) => new Date(Date.parse(T0) - hoursBeforeT0 * HOUR).toISOString();

/**
 * The tracking keeps enrollments' metrics (and, on SQLite, accounts, enrollments and progress) in
 * memory: at most so many, and only while they have events. Past the one, it drops those kept
 * longest; past the other, those with no event since it last dropped idle ones; both are read
 * again when next needed. Six accounts send events in turns of three, so that every chunk and
 * checkpoint drops some: what the tracking tracks must be what it would track keeping all
 * (`trackedProgram`: `sync` completes at the third "Contact Synced").
 */
describe.each(testEngines())(
  'the tracking, keeping fewer accounts than it tracks [%s]',
  (engine) => {
    const use = serverWithoutTracking(engine);

    it.each([
      { room: 'room for two', name: 'cap', kept: { maxKept: 2 } },
      { room: 'no room for the idle', name: 'idle', kept: { keepIdleMs: 0 } },
    ])(
      'with $room, counts every event once and completes each milestone at its deciding event',
      async ({ name, kept }) => {
        const { server, space } = use();
        const accounts = [];
        for (let i = 0; i < 6; i++) {
          const externalId = `${name}-${i}`;
          const account = await makeAccount(server.database.db, space.workspace.id, { externalId });
          const enrolled = await call(
            server,
            'POST',
            `/api/v1/accounts/${account.id}/enrollments`,
            {
              as: space.admin,
              body: { programKey: 'tracked', startedAt: at(100) },
            },
          );
          expect(enrolled.status, enrolled.text).toBe(201);
          accounts.push({ externalId, id: account.id, enrollmentId: enrolled.json.id as string });
        }
        const tracker = createTracker({
          database: server.database,
          clock: server.clock,
          log: server.app.log,
          chunkSize: 4,
          ...kept,
        });
        const rounds = 4;
        const timeOf = (round: number) => at(50 - round);
        try {
          for (let round = 1; round <= rounds; round++) {
            for (const turn of [accounts.slice(0, 3), accounts.slice(3)]) {
              const sent = await call(server, 'POST', '/v1/batch', {
                headers: { authorization: basicAuth(space.writeKey) },
                body: {
                  batch: turn.map(({ externalId }) => ({
                    type: 'track',
                    event: 'Contact Synced',
                    userId: 'ada',
                    messageId: `${externalId}-${round}`,
                    properties: { status: 'ok' },
                    context: { groupId: externalId },
                    timestamp: timeOf(round),
                  })),
                },
              });
              expect(sent.status, sent.text).toBe(200);
              // Each turn in a chunk and a checkpoint.
              await tracker.settled();
            }
          }
        } finally {
          await tracker.stop();
        }

        for (const account of accounts) {
          const res = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
            as: space.admin,
          });
          expect(res.status, res.text).toBe(200);
          const sync = res.json.enrollments[0].milestones.find(
            (m: { key: string }) => m.key === 'sync',
          );
          expect(sync, account.externalId).toMatchObject({
            status: 'completed',
            completedAt: timeOf(3),
            source: 'automatic',
          });
          expect(sync.evidence.event.messageId).toBe(`${account.externalId}-3`);

          const stored = await server.database.db
            .selectFrom('enrollment_metrics')
            .select(['state', 'rebuild_requested_at'])
            .where('enrollment_id', '=', account.enrollmentId)
            .executeTakeFirstOrThrow();
          expect(stored.rebuild_requested_at).toBeNull();
          const state = JSON.parse(stored.state) as { counts: Record<string, number> };
          expect(state.counts[SYNC_COUNT], account.externalId).toBe(rounds);

          const completions = await server.database.db
            .selectFrom('audit_events')
            .select('id')
            .where('workspace_id', '=', space.workspace.id)
            .where('action', '=', 'milestone.completed')
            .where('entity_id', '=', `${account.enrollmentId}/sync`)
            .execute();
          expect(completions).toHaveLength(1);
        }
      },
    );
  },
);
