import { parseSegmentCall } from '@waymark/core';
import type { KyselyPlugin } from 'kysely';
import { describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import { call } from '../testing/test-server.js';
import { oneMilestoneProgram, serverWithoutTracking } from '../testing/tracking.js';
import type { CommittedEvents } from './activities.js';
import { createEventWriter } from './event-writer.js';
import { createIngestion } from './ingest.js';
import { createTracker } from './tracker.js';

const program = oneMilestoneProgram(
  { key: 'handed', name: 'Handed onboarding', endDay: 90 },
  { key: 'setup', title: 'Set up', criteria: 'event_count("Setup Step") >= 1' },
);

describe.each(testEngines())('events handed over to the tracking [%s]', (engine) => {
  const use = serverWithoutTracking(engine, program);

  /** A tracker whose reads are counted: batches of events (rows with payloads), and its cursor's reads. */
  function watchedTracker() {
    const { server } = use();
    const counts = { batchesRead: 0, cursorReads: 0 };
    let onThirdCursorRead = () => {};
    const eventQueries = new Set<unknown>();
    const watch: KyselyPlugin = {
      transformQuery({ node, queryId }) {
        if (node.kind === 'SelectQueryNode') {
          const text = JSON.stringify(node);
          if (text.includes('"name":"event_batches"') && text.includes('"name":"payloads"')) {
            eventQueries.add(queryId);
          }
          if (text.includes('"name":"tracking_cursor"') && ++counts.cursorReads === 3) {
            onThirdCursorRead();
          }
        }
        return node;
      },
      transformResult: async ({ result, queryId }) => {
        if (eventQueries.delete(queryId)) counts.batchesRead += result.rows.length;
        return result;
      },
    };
    const tracker = createTracker({
      database: { db: server.database.db.withPlugin(watch), dialect: server.database.dialect },
      clock: server.clock,
      log: server.app.log,
    });
    return {
      tracker,
      counts,
      /**
       * Counts from zero; resolves once the tracking has run since: each run reads the cursor as
       * it starts a chunk, and `settled()` reads it after each run.
       */
      watchFromNow(): Promise<void> {
        counts.batchesRead = 0;
        counts.cursorReads = 0;
        return new Promise<void>((resolve) => {
          onThirdCursorRead = resolve;
        });
      },
    };
  }

  /** An enrolled account's "Setup Step", committed by the ingestion: what it would hand over. */
  async function setupStepStored(externalId: string) {
    const { server, space } = use();
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId });
    const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: space.admin,
      body: { programKey: 'handed' },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    const body = {
      userId: 'ada',
      event: 'Setup Step',
      timestamp: T0,
      context: { groupId: externalId },
    };
    const message = parseSegmentCall(body, JSON.stringify(body), 'track', Date.parse(T0));
    if (!message.ok) throw new Error(JSON.stringify(message.error));
    let handed: CommittedEvents | null = null;
    const ingestion = createIngestion({
      database: server.database,
      write: createEventWriter({
        database: server.database,
        onStored: (committed) => {
          handed = committed;
        },
      }),
    });
    return {
      account,
      async store(): Promise<CommittedEvents> {
        await ingestion.ingest(space.workspace.id, [message.value], T0);
        const stored = handed as CommittedEvents | null;
        if (stored === null) throw new Error('the ingestion stored nothing');
        return stored;
      },
    };
  }

  async function setupOf(accountId: string) {
    const { server, space } = use();
    const progress = await call(server, 'GET', `/api/v1/accounts/${accountId}/progress`, {
      as: space.admin,
    });
    return progress.json.enrollments[0].milestones[0];
  }

  it('waits for a commit’s events to be handed over instead of reading them back', async () => {
    const { account, store } = await setupStepStored('handed-co');
    const { tracker, counts, watchFromNow } = watchedTracker();
    try {
      await tracker.settled(); // the enrollment's metrics, from no events
      // The commit's events are stored; their hand-over is still on its way.
      const delivered = tracker.expectHandOver();
      const stored = await store();
      const ranSince = watchFromNow();
      const settling = tracker.settled();
      await ranSince;
      expect(counts.batchesRead).toBe(0);
      tracker.handOver(stored);
      delivered();
      await settling;
      expect(counts.batchesRead).toBe(0);
    } finally {
      await tracker.stop();
    }
    expect(await setupOf(account.id)).toMatchObject({ status: 'completed', completedAt: T0 });
  });

  it('reads back the events of a commit whose hand-over never came', async () => {
    const { account, store } = await setupStepStored('unhanded-co');
    const { tracker, counts } = watchedTracker();
    try {
      await tracker.settled();
      const delivered = tracker.expectHandOver();
      await store();
      delivered(); // as after a commit whose hand-over was lost: nothing more is on its way
      counts.batchesRead = 0;
      await tracker.settled();
      expect(counts.batchesRead).toBe(1);
    } finally {
      await tracker.stop();
    }
    expect(await setupOf(account.id)).toMatchObject({ status: 'completed', completedAt: T0 });
  });
});
