import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import {
  call,
  type Member,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import { basicAuth, type TrackingWorkspace, trackingWorkspace } from '../testing/tracking.js';

const MINUTE = 60_000;
/** Minutes before the server's clock (T0), when the events happened. */
const ago = (minutes: number) => new Date(Date.parse(T0) - minutes * MINUTE).toISOString();

interface TimelineEvent {
  messageId: string;
  type: string;
  event: string | null;
  name: string | null;
  timestamp: string;
  properties: Record<string, unknown> | null;
}

describe.each(testEngines())('account timeline of raw events [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;
  let other: TrackingWorkspace;
  let accountId: string;

  const send = async (writeKey: string, batch: Record<string, unknown>[]) => {
    const sent = await call(server, 'POST', '/v1/batch', {
      headers: { authorization: basicAuth(writeKey) },
      body: { batch },
    });
    expect(sent.status, sent.text).toBe(200);
  };
  const timeline = (query: string, as: Member = space.admin, id = accountId) =>
    call(server, 'GET', `/api/v1/accounts/${id}/events${query}`, { as });

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
    other = await trackingWorkspace(server);
    accountId = (await makeAccount(server.database.db, space.workspace.id, { externalId: 'acme' }))
      .id;
    await send(space.writeKey, [
      {
        type: 'group',
        messageId: 'm-group',
        userId: 'ada',
        groupId: 'acme',
        traits: { name: 'Acme', plan: 'pro' },
        timestamp: ago(60),
      },
      {
        type: 'track',
        messageId: 'm-sync-1',
        userId: 'ada',
        event: 'Contact Synced',
        properties: { status: 'ok' },
        context: { groupId: 'acme', library: { name: 'analytics-node' } },
        timestamp: ago(50),
      },
      // Three calls at the same instant: pages must split them without losing one.
      ...['m-tie-a', 'm-tie-b', 'm-tie-c'].map((messageId) => ({
        type: 'track',
        messageId,
        userId: 'grace',
        event: 'Report Viewed',
        context: { groupId: 'acme' },
        timestamp: ago(40),
      })),
      {
        type: 'page',
        messageId: 'm-page',
        anonymousId: 'anon-1',
        name: 'Settings',
        properties: { path: '/settings' },
        context: { groupId: 'acme' },
        timestamp: ago(30),
      },
      // Grouped with acme above, so it lands on acme without a group id of its own.
      {
        type: 'track',
        messageId: 'm-late',
        userId: 'ada',
        event: 'Invite Sent',
        timestamp: ago(10),
      },
      // Another account's event.
      {
        type: 'track',
        messageId: 'm-globex',
        userId: 'linus',
        event: 'Contact Synced',
        context: { groupId: 'globex' },
        timestamp: ago(5),
      },
    ]);
    // The other workspace sends for its own "acme": never part of this one's timeline.
    await send(other.writeKey, [
      {
        type: 'track',
        messageId: 'm-other',
        userId: 'eve',
        event: 'Secret Thing',
        context: { groupId: 'acme' },
        timestamp: ago(1),
      },
    ]);
  });
  afterAll(async () => server.close());

  it('lists the account’s events newest first, with the stored payload’s parts', async () => {
    const res = await timeline('');
    expect(res.status, res.text).toBe(200);
    const events = res.json.events as TimelineEvent[];
    expect(events.map((e) => e.messageId)).toEqual([
      'm-late',
      'm-page',
      'm-tie-c',
      'm-tie-b',
      'm-tie-a',
      'm-sync-1',
      'm-group',
    ]);
    expect(res.json.nextBefore).toBeNull();
    expect(events[0]).toEqual({
      messageId: 'm-late',
      type: 'track',
      event: 'Invite Sent',
      name: null,
      userId: 'ada',
      anonymousId: null,
      timestamp: ago(10),
      receivedAt: T0,
      properties: null,
      traits: null,
      context: null,
    });
    expect(events[1]).toMatchObject({
      type: 'page',
      event: null,
      name: 'Settings',
      userId: null,
      anonymousId: 'anon-1',
      properties: { path: '/settings' },
      context: { groupId: 'acme' },
    });
    expect(events[5]).toMatchObject({
      event: 'Contact Synced',
      properties: { status: 'ok' },
      context: { groupId: 'acme', library: { name: 'analytics-node' } },
    });
    expect(events[6]).toMatchObject({
      type: 'group',
      traits: { name: 'Acme', plan: 'pro' },
      properties: null,
    });
  });

  it('pages with nextBefore, splitting events of one instant without losing or repeating one', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${before === null ? '' : `&before=${encodeURIComponent(before)}`}`;
      const res = await timeline(query);
      expect(res.status, res.text).toBe(200);
      expect(res.json.events.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.events.map((e: TimelineEvent) => e.messageId));
      before = res.json.nextBefore;
      pages += 1;
    } while (before !== null && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual([
      'm-late',
      'm-page',
      'm-tie-c',
      'm-tie-b',
      'm-tie-a',
      'm-sync-1',
      'm-group',
    ]);
  });

  it('takes an ISO instant as before: only events strictly earlier', async () => {
    const res = await timeline(`?before=${encodeURIComponent(ago(40))}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.events.map((e: TimelineEvent) => e.messageId)).toEqual(['m-sync-1', 'm-group']);
    const offset = await timeline(`?before=${encodeURIComponent('2026-03-02T09:21:00-05:00')}`);
    expect(offset.json.events.map((e: TimelineEvent) => e.messageId)).toEqual([
      'm-tie-c',
      'm-tie-b',
      'm-tie-a',
      'm-sync-1',
      'm-group',
    ]);
  });

  it('filters by call type', async () => {
    const pages = await timeline('?type=page');
    expect(pages.json.events.map((e: TimelineEvent) => e.messageId)).toEqual(['m-page']);
    const groups = await timeline('?type=group');
    expect(groups.json.events.map((e: TimelineEvent) => e.messageId)).toEqual(['m-group']);
    const tracks = await timeline('?type=track&limit=3');
    expect(tracks.json.events.map((e: TimelineEvent) => e.messageId)).toEqual([
      'm-late',
      'm-tie-c',
      'm-tie-b',
    ]);
    const rest = await timeline(
      `?type=track&limit=3&before=${encodeURIComponent(tracks.json.nextBefore)}`,
    );
    expect(rest.json.events.map((e: TimelineEvent) => e.messageId)).toEqual([
      'm-tie-a',
      'm-sync-1',
    ]);
    expect(rest.json.nextBefore).toBeNull();
  });

  it('refuses a bad before, limit or type with a problem naming the field', async () => {
    for (const query of [
      '?before=yesterday',
      '?before=eyJ0IjoxfQ',
      '?limit=0',
      '?limit=501',
      '?type=purchase',
    ]) {
      const res = await timeline(query);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const res = await timeline('?before=yesterday');
    expect(res.json.errors).toEqual([
      {
        field: 'querystring.before',
        message: 'expected an ISO-8601 instant or the nextBefore of the previous page',
      },
    ]);
  });

  it('is readable by every role that reads accounts, by session and by key', async () => {
    for (const role of ['manager', 'csm', 'viewer'] as const) {
      const member = await signedInMember(server, space.workspace, role);
      const res = await timeline('?limit=1', member);
      expect(res.status, role).toBe(200);
      expect(res.json.events).toHaveLength(1);
    }
    const key = await call(server, 'POST', '/api/v1/api-keys', {
      as: space.admin,
      body: { kind: 'secret', name: 'reader', role: 'viewer' },
    });
    const res = await call(server, 'GET', `/api/v1/accounts/${accountId}/events`, {
      as: { bearer: key.json.token },
    });
    expect(res.status).toBe(200);
    expect(await timeline('', {} as Member)).toMatchObject({ status: 401 });
  });

  it('answers 404 for another workspace’s account, and keeps each workspace’s events apart', async () => {
    const res = await timeline('', other.admin);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('Contact Synced');
    // The other workspace's own "acme" sees its own event only.
    const own = await makeAccount(server.database.db, other.workspace.id, { externalId: 'acme' });
    const mine = await timeline('', other.admin, own.id);
    expect(mine.json.events.map((e: TimelineEvent) => e.messageId)).toEqual(['m-other']);
    const missing = await timeline('', space.admin, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
  });
});
