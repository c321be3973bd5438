import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAccountByExternalId } from '../accounts/accounts.repo.js';
import { testEngines } from '../testing/engines.js';
import { storedEvents } from '../testing/stored-events.js';
import { call, startTestServer, type TestServer } from '../testing/test-server.js';
import { basicAuth, type TrackingWorkspace, trackingWorkspace } from '../testing/tracking.js';

describe.each(testEngines())('accounts from group calls [%s]', (engine) => {
  let server: TestServer;
  let on: TrackingWorkspace;
  let off: TrackingWorkspace;

  const group = (space: TrackingWorkspace, groupId: string, traits: Record<string, unknown>) =>
    call(server, 'POST', '/v1/group', {
      headers: { authorization: basicAuth(space.writeKey) },
      body: { userId: 'ada', groupId, traits },
    });

  beforeAll(async () => {
    server = await startTestServer(engine);
    on = await trackingWorkspace(server);
    off = await trackingWorkspace(server);
    const set = await call(server, 'PATCH', '/api/v1/workspace', {
      as: on.admin,
      body: { settings: { createAccountsFromGroups: true } },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.json.settings.createAccountsFromGroups).toBe(true);
  });
  afterAll(async () => server.close());

  it('creates an unknown account from a group call when the workspace asks for it', async () => {
    expect((await group(on, 'newco', { name: 'NewCo Ltd', plan: 'scale' })).status).toBe(200);
    await server.app.tracker.settled();
    const account = await findAccountByExternalId(server.database.db, on.workspace.id, 'newco');
    expect(account).toMatchObject({
      name: 'NewCo Ltd',
      traits: { name: 'NewCo Ltd', plan: 'scale' },
    });
    const audit = await call(
      server,
      'GET',
      `/api/v1/audit-events?entityType=account&entityId=${account?.id}`,
      {
        as: on.admin,
      },
    );
    expect(audit.json.events).toHaveLength(1);
    expect(audit.json.events[0]).toMatchObject({
      action: 'account.created',
      actor: { type: 'system', id: 'tracking' },
    });
  });

  it('keeps the events of an unknown account without creating it by default', async () => {
    expect((await group(off, 'stranger', { name: 'Stranger Inc' })).status).toBe(200);
    await server.app.tracker.settled();
    expect(
      await findAccountByExternalId(server.database.db, off.workspace.id, 'stranger'),
    ).toBeUndefined();
    const kept = await storedEvents(server.database.db, off.workspace.id);
    expect(kept.map((e) => e.account_key)).toEqual(['stranger']);
  });
});
