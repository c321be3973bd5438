import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount } from '../testing/factories.js';
import { call, startTestServer, type TestServer } from '../testing/test-server.js';
import {
  basicAuth,
  oneMilestoneProgram,
  type TrackingWorkspace,
  trackingWorkspace,
} from '../testing/tracking.js';

const DAY = 86_400_000;

/** Settled in: three days into the enrollment, with a sign-in. Only time can finish it. */
const program = oneMilestoneProgram(
  { key: 'settling', name: 'Settling in', endDay: 30 },
  {
    key: 'settled',
    title: 'Settled in',
    criteria: 'days_since_enrollment >= 3 && event_count("Signed In") >= 1',
  },
);

describe.each(testEngines())('criteria that time makes true [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server, program);
  });
  afterAll(async () => server.close());

  it('completes when the hourly sweep finds the days passed, with no new event', async () => {
    const startedAt = new Date(Date.parse(server.clock()) - DAY).toISOString();
    const account = await makeAccount(server.database.db, space.workspace.id, {
      externalId: 'patient-co',
    });
    const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: space.admin,
      body: { programKey: 'settling', startedAt },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    const sent = await call(server, 'POST', '/v1/track', {
      headers: { authorization: basicAuth(space.writeKey) },
      body: { userId: 'ada', event: 'Signed In', context: { groupId: 'patient-co' } },
    });
    expect(sent.status, sent.text).toBe(200);
    await server.app.tracker.settled();

    const settled = async () => {
      const res = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
        as: space.admin,
      });
      return res.json.enrollments[0].milestones[0];
    };
    expect((await settled()).status).toBe('open');

    server.clock.advance(3 * DAY);
    expect(await server.app.tracker.sweep()).toBeGreaterThanOrEqual(1);
    const now = server.clock();
    expect(await settled()).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: now,
      evidence: {
        metrics: {
          days_since_enrollment: Math.floor((Date.parse(now) - Date.parse(startedAt)) / DAY),
          'event_count:Signed In:{}:all': 1,
        },
        event: null,
      },
    });
  });
});
