import { completeMilestone, initialProgress } from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityHash } from '../auth/tokens.js';
import { newId } from '../db/ids.js';
import { insertEnrollment } from '../enrollments/enrollments.repo.js';
import { saveProgress } from '../enrollments/progress.repo.js';
import { insertProgram, insertProgramVersion } from '../programs/programs.repo.js';
import { testEngines } from '../testing/engines.js';
import { enrollmentOf, makeAccount, T0, threeStepProgram } from '../testing/factories.js';
import {
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';

describe.each(testEngines())('in-app checklist with a publishable key [%s]', (engine) => {
  let server: TestServer;
  let admin: Member;
  let key: { token: string; identitySecret: string };
  const externalId = 'org_checklist';

  beforeAll(async () => {
    server = await startTestServer(engine);
    const workspace = await newWorkspace(server);
    admin = await signedInMember(server, workspace, 'admin');
    const { db } = server.database;
    const account = await makeAccount(db, workspace.id, { externalId, name: 'Checklist Co' });
    const programId = newId();
    const versionId = newId();
    await insertProgram(db, {
      id: programId,
      workspaceId: workspace.id,
      key: 'three-step',
      name: 'Three step',
      createdAt: T0,
      updatedAt: T0,
    });
    await insertProgramVersion(db, {
      id: versionId,
      workspaceId: workspace.id,
      programId,
      version: 1,
      status: 'published',
      definition: threeStepProgram,
      definitionHash: 'h',
      publishedAt: T0,
      createdAt: T0,
    });
    const enrollmentId = newId();
    await insertEnrollment(
      db,
      enrollmentOf(
        { workspaceId: workspace.id, accountId: account.id, programVersionId: versionId },
        { id: enrollmentId },
      ),
    );
    const progress = initialProgress(threeStepProgram, T0, {});
    const done = completeMilestone(threeStepProgram, progress, {
      milestoneKey: 'kickoff',
      at: '2026-03-04T10:00:00.000Z',
      source: 'csm',
      actor: { type: 'user', id: admin.userId },
    });
    if (!done.ok) throw new Error(done.error.message);
    await saveProgress(db, workspace.id, enrollmentId, done.value.progress, T0);

    const created = await call(server, 'POST', '/api/v1/api-keys', {
      as: admin,
      body: { kind: 'publishable', name: 'widget' },
    });
    key = created.json;
  });
  afterAll(async () => server.close());

  const query = (params: Record<string, string>) =>
    `/api/v1/checklist?${new URLSearchParams(params)}`;

  it('shows a verified end user their account’s milestones, and lets any page read it', async () => {
    expect(key.identitySecret).toMatch(/^[0-9a-f]{64}$/);
    const userHash = identityHash(key.identitySecret, externalId, 'user-42');
    const res = await call(
      server,
      'GET',
      query({ key: key.token, account: externalId, user: 'user-42', userHash }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.json.account).toEqual({ externalId, name: 'Checklist Co' });
    const [enrollment] = res.json.enrollments;
    expect(enrollment).toMatchObject({
      program: { key: 'three-step', version: 1 },
      done: 1,
      total: 3,
      next: 'integration',
    });
    // Starts 2026-03-02 10:00 in New York: kickoff due day 3, integration 14, training 18.
    expect(
      enrollment.items.map((i: { key: string; status: string; dueDate: string }) => [
        i.key,
        i.status,
        i.dueDate,
      ]),
    ).toEqual([
      ['kickoff', 'completed', '2026-03-05'],
      ['integration', 'open', '2026-03-16'],
      ['training', 'locked', '2026-03-20'],
    ]);
  });

  it('refuses a hash made for another user or account, and a malformed one', async () => {
    const forOther = identityHash(key.identitySecret, externalId, 'user-43');
    const wrongUser = await call(
      server,
      'GET',
      query({ key: key.token, account: externalId, user: 'user-42', userHash: forOther }),
    );
    expect(wrongUser.status).toBe(401);
    expect(wrongUser.json.detail).toBe('userHash does not match account and user for this key');
    const otherAccount = identityHash(key.identitySecret, 'org_other', 'user-42');
    expect(
      (
        await call(
          server,
          'GET',
          query({ key: key.token, account: externalId, user: 'user-42', userHash: otherAccount }),
        )
      ).status,
    ).toBe(401);
    const malformed = await call(
      server,
      'GET',
      query({ key: key.token, account: externalId, user: 'user-42', userHash: 'abc' }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.json.errors).toEqual([
      { field: 'querystring.userHash', message: 'expected 64 hex characters' },
    ]);
  });

  it('answers only publishable keys, and only for their own workspace', async () => {
    const userHash = identityHash(key.identitySecret, externalId, 'u');
    const params = { account: externalId, user: 'u', userHash };
    expect((await call(server, 'GET', query(params), { as: admin })).status).toBe(403);
    const secret = await call(server, 'POST', '/api/v1/api-keys', {
      as: admin,
      body: { kind: 'secret', name: 's', role: 'admin' },
    });
    expect((await call(server, 'GET', query({ ...params, key: secret.json.token }))).status).toBe(
      403,
    );
    expect((await call(server, 'GET', query(params), { as: { bearer: key.token } })).status).toBe(
      200,
    );

    const otherAdmin = await signedInMember(server, await newWorkspace(server), 'admin');
    const otherKey = (
      await call(server, 'POST', '/api/v1/api-keys', {
        as: otherAdmin,
        body: { kind: 'publishable', name: 'w' },
      })
    ).json;
    const theirHash = identityHash(otherKey.identitySecret, externalId, 'u');
    const res = await call(
      server,
      'GET',
      query({ key: otherKey.token, account: externalId, user: 'u', userHash: theirHash }),
    );
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('Checklist Co');
  });

  it('stops answering a revoked key', async () => {
    const revoked = (
      await call(server, 'POST', '/api/v1/api-keys', {
        as: admin,
        body: { kind: 'publishable', name: 'old' },
      })
    ).json;
    await call(server, 'DELETE', `/api/v1/api-keys/${revoked.id}`, { as: admin });
    const userHash = identityHash(revoked.identitySecret, externalId, 'u');
    const res = await call(
      server,
      'GET',
      query({ key: revoked.token, account: externalId, user: 'u', userHash }),
    );
    expect(res.status).toBe(401);
  });
});
