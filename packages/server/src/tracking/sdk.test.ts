import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAccount, T0 } from '../testing/factories.js';
import { storedEvents } from '../testing/stored-events.js';
import { call, startTestServer, type TestServer } from '../testing/test-server.js';
import { type TrackingWorkspace, trackingWorkspace } from '../testing/tracking.js';
import { inTimeOrder } from './events.repo.js';

/**
 * The tracking API through the libraries customers already use, unchanged: Segment's
 * (JSON, Basic auth) and RudderStack's (gzip bodies), each pointed at the server.
 */
// The server's clock stands at T0: the events arrive then, a day into the enrollment.
const DAY_BEFORE = new Date(Date.parse(T0) - 86_400_000).toISOString();

describe.each(['sqlite', 'postgres'] as const)('Segment and RudderStack SDKs [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
  });
  afterAll(async () => server.close());

  async function enrolledAccount(externalId: string) {
    const account = await makeAccount(server.database.db, space.workspace.id, { externalId });
    const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: space.admin,
      body: { programKey: 'tracked', startedAt: DAY_BEFORE },
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    return account;
  }

  async function progressOf(accountId: string) {
    const res = await call(server, 'GET', `/api/v1/accounts/${accountId}/progress`, {
      as: space.admin,
    });
    expect(res.status, res.text).toBe(200);
    const milestones = res.json.enrollments[0].milestones as {
      key: string;
      status: string;
      completedAt: string | null;
      source: string | null;
      evidence: Record<string, unknown> | null;
    }[];
    return Object.fromEntries(milestones.map((m) => [m.key, m]));
  }

  /** The stored "Contact Synced" events with status ok, in time order. */
  async function syncedOk(accountKey: string) {
    const rows = (await storedEvents(server.database.db, space.workspace.id))
      .filter((e) => e.account_key === accountKey && e.event === 'Contact Synced')
      .sort(inTimeOrder);
    return rows.filter((row) => JSON.parse(row.payload).properties?.status === 'ok');
  }

  async function expectCompletedFromEvents(accountId: string, accountKey: string) {
    await server.app.tracker.settled();
    const progress = await progressOf(accountId);
    const deciding = (await syncedOk(accountKey))[2];
    expect(deciding).toBeDefined();
    expect(progress.sync).toMatchObject({
      status: 'completed',
      source: 'automatic',
      completedAt: deciding?.timestamp,
      evidence: {
        metrics: { 'event_count:Contact Synced:{"status":"ok"}:all': 3 },
        event: { messageId: deciding?.message_id, event: 'Contact Synced', type: 'track' },
      },
    });
    // Two users were active when sync completed, which opened activation.
    expect(progress.activation).toMatchObject({
      status: 'completed',
      completedAt: deciding?.timestamp,
      evidence: { metrics: { 'active_users:604800': 2 } },
    });
    expect(progress.review?.status).toBe('open');
  }

  it('completes milestones from events sent by @segment/analytics-node', async () => {
    const account = await enrolledAccount('acme');
    const errors: unknown[] = [];
    const analytics = new Analytics({
      writeKey: space.writeKey,
      host: server.url,
      flushAt: 50,
      maxRetries: 0,
    });
    analytics.on('error', (error) => errors.push(error));
    analytics.group({ userId: 'ada', groupId: 'acme', traits: { name: 'Acme', plan: 'pro' } });
    analytics.track({ userId: 'ada', event: 'Contact Synced', properties: { status: 'ok' } });
    analytics.track({ userId: 'ada', event: 'Contact Synced', properties: { status: 'failed' } });
    analytics.track({ userId: 'ada', event: 'Contact Synced', properties: { status: 'ok' } });
    analytics.track({
      userId: 'grace',
      event: 'Contact Synced',
      properties: { status: 'ok' },
      context: { groupId: 'acme' },
    });
    await analytics.closeAndFlush();
    expect(errors).toEqual([]);

    await expectCompletedFromEvents(account.id, 'acme');
    // The group call's traits reached the account.
    const stored = await call(server, 'GET', `/api/v1/accounts/${account.id}`, { as: space.admin });
    expect(stored.json.traits).toMatchObject({ name: 'Acme', plan: 'pro' });
  });

  it('completes milestones from gzipped batches sent by @rudderstack/rudder-sdk-node', async () => {
    const account = await enrolledAccount('globex');
    const client = new RudderAnalytics(space.writeKey, {
      dataPlaneUrl: server.url,
      flushAt: 50,
      retryCount: 0,
      logLevel: 'error',
    });
    const sent = (message: Parameters<typeof client.track>[0]) =>
      new Promise<void>((resolve, reject) => {
        client.track(message, (error?: Error) => (error ? reject(error) : resolve()));
      });
    const all = [
      sent({
        userId: 'linus',
        event: 'Contact Synced',
        properties: { status: 'ok' },
        context: { groupId: 'globex' },
      }),
      sent({
        userId: 'linus',
        event: 'Contact Synced',
        properties: { status: 'ok' },
        context: { groupId: 'globex' },
      }),
      sent({
        anonymousId: 'visitor-9',
        event: 'Contact Synced',
        properties: { status: 'ok' },
        context: { groupId: 'globex' },
      }),
    ];
    await client.flush();
    await Promise.all(all);

    await expectCompletedFromEvents(account.id, 'globex');
  });
});
