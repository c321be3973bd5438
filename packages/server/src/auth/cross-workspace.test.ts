import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import { insertProgram, insertProgramVersion } from '../programs/programs.repo.js';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0, threeStepProgram } from '../testing/factories.js';
import {
  type Credentials,
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import { insertEvents } from '../tracking/events-insert.repo.js';

/**
 * A body for every route that takes one: a change a second workspace might try on
 * the first one's data. A new route without an entry fails the walk, on purpose.
 */
function sampleBody(route: string, a: { externalId: string }): unknown {
  const bodies: Record<string, unknown> = {
    'POST /api/v1/auth/logout': undefined,
    'PATCH /api/v1/users/{userId}': { role: 'viewer', active: false },
    'POST /api/v1/invitations': { email: 'newcomer@b.example', role: 'csm' },
    'POST /api/v1/api-keys': { kind: 'secret', name: 'b key', role: 'viewer' },
    'DELETE /api/v1/api-keys/{keyId}': undefined,
    'PATCH /api/v1/workspace': { name: 'B, renamed' },
    'POST /api/v1/accounts': {
      externalId: a.externalId,
      name: 'Same external id, other workspace',
    },
    'PATCH /api/v1/accounts/{accountId}': { name: 'hijacked', traits: { owned: 'by B' } },
    // Sent as JSON, so refused as the wrong media type: the import takes text/csv only.
    'POST /api/v1/accounts/import': `external_id,name\n${a.externalId},Same id, other workspace`,
    'POST /api/v1/accounts/{accountId}/enrollments': { programKey: 'three-step' },
    'POST /api/v1/enrollments/{enrollmentId}/milestones/{milestoneKey}/complete': {
      evidence: { note: 'B was here' },
    },
    'POST /api/v1/enrollments/{enrollmentId}/milestones/{milestoneKey}/waive': { reason: 'B' },
    'POST /api/v1/enrollments/{enrollmentId}/milestones/{milestoneKey}/reopen': {
      reason: 'B',
      cascade: true,
    },
    'POST /api/v1/programs': { definition: { ...threeStepProgram, key: 'b-own-program' } },
    'POST /api/v1/programs/{programKey}/versions': { definition: threeStepProgram },
    'POST /api/v1/programs/{programKey}/versions/{version}/publish': undefined,
    'POST /api/v1/programs/{programKey}/archive': undefined,
    'POST /api/v1/programs/{programKey}/unarchive': undefined,
    'POST /api/v1/programs/{programKey}/migrations': { from: 1, to: 1, apply: true },
  };
  if (!(route in bodies))
    throw new Error(`add a sample body for ${route} to the cross-workspace walk`);
  return bodies[route];
}

/** A published three-step program in the workspace, and the account enrolled in it. */
async function enrollInThreeStep(
  server: TestServer,
  workspaceId: string,
  as: Member,
  accountId: string,
): Promise<string> {
  const { db } = server.database;
  const programId = newId();
  await insertProgram(db, {
    id: programId,
    workspaceId,
    key: 'three-step',
    name: 'Three step',
    createdAt: T0,
    updatedAt: T0,
  });
  await insertProgramVersion(db, {
    id: newId(),
    workspaceId,
    programId,
    version: 1,
    status: 'published',
    definition: threeStepProgram,
    definitionHash: 'h',
    publishedAt: T0,
    createdAt: T0,
  });
  const enrolled = await call(server, 'POST', `/api/v1/accounts/${accountId}/enrollments`, {
    as,
    body: { programKey: 'three-step' },
  });
  if (enrolled.status !== 201) throw new Error(`enrollment failed: ${enrolled.text}`);
  return enrolled.json.id as string;
}

describe.each(testEngines())('workspaces are sealed from each other [%s]', (engine) => {
  let server: TestServer;
  let adminA: Member;
  let csmA: Member;
  let adminB: Member;
  let keyB: Credentials;
  const a = {
    accountId: '',
    enrollmentId: '',
    externalId: 'org_alpha_7f3',
    accountName: 'Alpha Secret Corp',
    keyId: '',
    keyPrefix: '',
    workspaceId: '',
    workspaceName: 'Alpha Workspace',
  };

  beforeAll(async () => {
    server = await startTestServer(engine);
    const wsA = await newWorkspace(server);
    await server.database.db
      .updateTable('workspaces')
      .set({ name: a.workspaceName })
      .where('id', '=', wsA.id)
      .execute();
    a.workspaceId = wsA.id;
    adminA = await signedInMember(server, wsA, 'admin');
    csmA = await signedInMember(server, wsA, 'csm');
    const account = await makeAccount(server.database.db, wsA.id, {
      externalId: a.externalId,
      name: a.accountName,
      traits: { plan: 'alpha-enterprise' },
    });
    a.accountId = account.id;
    a.enrollmentId = await enrollInThreeStep(server, wsA.id, adminA, account.id);
    // A raw event of A's account, for the timeline.
    await insertEvents(server.database.db, server.database.dialect, [
      {
        workspace_id: wsA.id,
        message_id: 'alpha-message-9c1',
        type: 'track',
        event: 'Alpha Secret Event',
        account_key: a.externalId,
        user_id: 'alpha-user-4d2',
        anonymous_id: null,
        timestamp: T0,
        received_at: T0,
        payload: JSON.stringify({ type: 'track', event: 'Alpha Secret Event' }),
      },
    ]);
    const key = await call(server, 'POST', '/api/v1/api-keys', {
      as: adminA,
      body: { kind: 'secret', name: 'alpha integration', role: 'admin' },
    });
    a.keyId = key.json.id;
    a.keyPrefix = key.json.prefix;
    await call(server, 'POST', '/api/v1/invitations', {
      as: adminA,
      body: { email: 'alpha-invitee@a.example', role: 'manager' },
    });

    const wsB = await newWorkspace(server);
    adminB = await signedInMember(server, wsB, 'admin');
    const created = await call(server, 'POST', '/api/v1/api-keys', {
      as: adminB,
      body: { kind: 'secret', name: 'b admin', role: 'admin' },
    });
    keyB = { bearer: created.json.token };
  });
  afterAll(async () => server.close());

  it('walks every route of the OpenAPI document as workspace B, and never reaches A', async () => {
    const doc = (await call(server, 'GET', '/api/openapi.json')).json as {
      paths: Record<string, Record<string, unknown>>;
    };
    const secretsOfA = [
      a.accountId,
      a.enrollmentId,
      a.externalId,
      a.accountName,
      'alpha-enterprise',
      a.keyId,
      a.keyPrefix,
      a.workspaceId,
      a.workspaceName,
      adminA.email,
      csmA.email,
      csmA.userId,
      adminA.userId,
      'alpha-invitee',
      'alpha-message-9c1',
      'Alpha Secret Event',
      'alpha-user-4d2',
    ];
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .filter(
        (route) => server.app.accessRules.get(route.replace(/\{(\w+)\}/g, ':$1')) !== 'public',
      )
      .sort((x, y) => Number(x.includes('logout')) - Number(y.includes('logout')));
    expect(routes.length).toBeGreaterThan(10);

    const sentByB: string[] = [];
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path
        .replace('{accountId}', a.accountId)
        .replace('{enrollmentId}', a.enrollmentId)
        .replace('{milestoneKey}', 'kickoff')
        .replace('{userId}', csmA.userId)
        .replace('{keyId}', a.keyId)
        .replace('{programKey}', 'three-step')
        .replace('{version}', '1');
      const body = method === 'GET' ? undefined : sampleBody(route, a);
      for (const [via, as] of [
        ['session', adminB],
        ['key', keyB],
      ] as const) {
        const res = await call(server, method, url, { as, ...(body !== undefined && { body }) });
        const label = `${route} by B's ${via} → ${res.status}`;
        if (path.includes('{')) expect(res.status, label).toBe(404);
        // An external id taken in A is free in B: a conflict would tell B that A has it.
        if (route === 'POST /api/v1/accounts' && via === 'session')
          expect(res.status, label).toBe(201);
        expect(res.status, label).toBeLessThan(500);
        // What B itself sent may come back (a problem's `instance`, B's own account made with
        // the same external id); anything else of A must not appear.
        sentByB.push(url, JSON.stringify(body ?? ''));
        for (const secret of secretsOfA.filter((s) => !sentByB.some((sent) => sent.includes(s)))) {
          expect(res.text, `${label} leaked ${secret}`).not.toContain(secret);
        }
      }
    }
  });

  it('leaves all of A as it was', async () => {
    const account = await call(server, 'GET', `/api/v1/accounts/${a.accountId}`, { as: adminA });
    expect(account.json).toMatchObject({
      name: a.accountName,
      traits: { plan: 'alpha-enterprise' },
    });
    const progress = await call(server, 'GET', `/api/v1/accounts/${a.accountId}/progress`, {
      as: adminA,
    });
    expect(progress.json.enrollments.map((e: { id: string }) => e.id)).toEqual([a.enrollmentId]);
    expect(progress.json.enrollments[0].milestones[0]).toMatchObject({
      key: 'kickoff',
      status: 'open',
    });
    const program = await call(server, 'GET', '/api/v1/programs/three-step', { as: adminA });
    expect(program.json).toMatchObject({ archivedAt: null, latestVersion: 1 });
    const csm = await call(server, 'GET', `/api/v1/users/${csmA.userId}`, { as: adminA });
    expect(csm.json).toMatchObject({ role: 'csm', active: true });
    const keys = await call(server, 'GET', '/api/v1/api-keys', { as: adminA });
    expect(keys.json.apiKeys.find((k: { id: string }) => k.id === a.keyId).revokedAt).toBeNull();
    const ws = await call(server, 'GET', '/api/v1/workspace', { as: adminA });
    expect(ws.json.name).toBe(a.workspaceName);
    const trail = await call(server, 'GET', '/api/v1/audit-events?limit=500', { as: adminA });
    const actors = new Set(trail.json.events.map((e: { actor: { id: string } }) => e.actor.id));
    expect(actors.has(adminB.userId)).toBe(false);
  });
});
