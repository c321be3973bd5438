import { programDefinitionSchema } from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import { findProgramByKey, insertProgramVersion } from '../programs/programs.repo.js';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import { call, startTestServer, type TestServer } from '../testing/test-server.js';
import {
  basicAuth,
  type TrackingWorkspace,
  trackedProgram,
  trackingWorkspace,
} from '../testing/tracking.js';

const DAY = 86_400_000;
const START = Date.parse(T0) - 10 * DAY;
const at = (days: number) => new Date(START + days * DAY).toISOString();

describe.each(testEngines())('what-if replay of a draft’s criteria [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
    // A draft that asks for two synced contacts instead of three.
    const draft = programDefinitionSchema.parse({
      ...trackedProgram,
      milestones: trackedProgram.milestones.map((m) =>
        m.key === 'sync'
          ? { ...m, criteria: 'event_count("Contact Synced", {"status": "ok"}) >= 2' }
          : m,
      ),
    });
    const program = await findProgramByKey(server.database.db, space.workspace.id, 'tracked');
    await insertProgramVersion(server.database.db, {
      id: newId(),
      workspaceId: space.workspace.id,
      programId: program?.id ?? '',
      version: 2,
      status: 'draft',
      definition: draft,
      definitionHash: 'h2',
      publishedAt: null,
      createdAt: T0,
    });

    // acme syncs on days 1, 3 and 6; globex on days 2 and 4; initech never.
    const syncs: Record<string, number[]> = { acme: [1, 3, 6], globex: [2, 4], initech: [] };
    const batch = [];
    for (const [externalId, days] of Object.entries(syncs)) {
      const account = await makeAccount(server.database.db, space.workspace.id, { externalId });
      const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
        as: space.admin,
        body: { programKey: 'tracked', startedAt: at(0) },
      });
      expect(enrolled.status, enrolled.text).toBe(201);
      for (const day of days) {
        batch.push({
          type: 'track',
          event: 'Contact Synced',
          userId: `${externalId}-admin`,
          properties: { status: 'ok' },
          context: { groupId: externalId },
          timestamp: at(day),
        });
      }
    }
    const sent = await call(server, 'POST', '/v1/batch', {
      headers: { authorization: basicAuth(space.writeKey) },
      body: { batch },
    });
    expect(sent.status, sent.text).toBe(200);
    await server.app.tracker.settled();
  });
  afterAll(async () => server.close());

  it('shows per milestone how many accounts would meet the draft’s criteria, and when, against the published version', async () => {
    const res = await call(server, 'GET', '/api/v1/programs/tracked/versions/2/replay', {
      as: space.admin,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      version: 2,
      baselineVersion: 1,
      enrollments: 3,
      limited: false,
    });
    const sync = res.json.milestones.find((m: { key: string }) => m.key === 'sync');
    expect(sync).toEqual({
      key: 'sync',
      title: 'Contacts synced',
      criteria: {
        candidate: 'event_count("Contact Synced", {"status": "ok"}) >= 2',
        published: 'event_count("Contact Synced", {"status": "ok"}) >= 3',
      },
      // Draft: acme on day 3, globex on day 4. Published: acme alone, on day 6.
      candidate: { met: 2, medianDays: 3, firstAt: at(3), lastAt: at(4) },
      published: { met: 1, medianDays: 6, firstAt: at(6), lastAt: at(6) },
    });
    const review = res.json.milestones.find((m: { key: string }) => m.key === 'review');
    expect(review).toMatchObject({ candidate: null, published: null });
  });

  it('replays only the most recent enrollments up to the limit, and says so', async () => {
    const res = await call(server, 'GET', '/api/v1/programs/tracked/versions/2/replay?limit=2', {
      as: space.admin,
    });
    expect(res.json).toMatchObject({ enrollments: 2, limited: true });
  });

  it('answers 404 for a version that does not exist', async () => {
    const res = await call(server, 'GET', '/api/v1/programs/tracked/versions/9/replay', {
      as: space.admin,
    });
    expect(res.status).toBe(404);
  });
});
