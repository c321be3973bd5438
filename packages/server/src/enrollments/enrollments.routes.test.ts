import type { ProgramDefinition } from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import { insertProgram, insertProgramVersion } from '../programs/programs.repo.js';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0, threeStepProgram } from '../testing/factories.js';
import {
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';

/** threeStepProgram plus an Enterprise-only milestone. */
const program: ProgramDefinition = {
  ...threeStepProgram,
  milestones: [
    ...threeStepProgram.milestones,
    {
      key: 'sso',
      title: 'SSO configured',
      phase: 'foundation',
      targetDay: 10,
      dependsOn: ['kickoff'],
      owner: 'specialist',
      verification: ['csm'],
      segments: ['Enterprise'],
    },
  ],
};

const statuses = (enrollment: { milestones: { key: string; status: string }[] }) =>
  Object.fromEntries(enrollment.milestones.map((m) => [m.key, m.status]));

describe.each(testEngines())('enrollments and milestone progress over HTTP [%s]', (engine) => {
  let server: TestServer;
  let workspace: Workspace;
  let csm: Member;
  let manager: Member;
  let viewer: Member;

  async function account(overrides: Parameters<typeof makeAccount>[2] = {}) {
    return makeAccount(server.database.db, workspace.id, overrides);
  }
  async function enroll(accountId: string, body: Record<string, unknown> = {}) {
    return call(server, 'POST', `/api/v1/accounts/${accountId}/enrollments`, {
      as: csm,
      body: { programKey: 'three-step', ...body },
    });
  }
  const act = (
    as: Member,
    enrollmentId: string,
    key: string,
    verb: 'complete' | 'waive' | 'reopen',
    body: Record<string, unknown>,
  ) =>
    call(server, 'POST', `/api/v1/enrollments/${enrollmentId}/milestones/${key}/${verb}`, {
      as,
      body,
    });

  beforeAll(async () => {
    server = await startTestServer(engine);
    workspace = await newWorkspace(server);
    csm = await signedInMember(server, workspace, 'csm');
    manager = await signedInMember(server, workspace, 'manager');
    viewer = await signedInMember(server, workspace, 'viewer');
    const { db } = server.database;
    const programId = newId();
    await insertProgram(db, {
      id: programId,
      workspaceId: workspace.id,
      key: 'three-step',
      name: 'Three step',
      createdAt: T0,
      updatedAt: T0,
    });
    for (const [version, status] of [
      [1, 'published'],
      [2, 'draft'],
    ] as const) {
      await insertProgramVersion(db, {
        id: newId(),
        workspaceId: workspace.id,
        programId,
        version,
        status,
        definition: program,
        definitionHash: `h${version}`,
        publishedAt: status === 'published' ? T0 : null,
        createdAt: T0,
      });
    }
  });
  afterAll(async () => server.close());

  it('enrolls in the latest published version with the milestones of the account’s segment', async () => {
    const midMarket = await account({ segment: 'Mid-Market' });
    const res = await enroll(midMarket.id, { goLiveDate: '2026-04-15', ownerUserId: csm.userId });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      accountId: midMarket.id,
      program: { key: 'three-step', version: 1 },
      startedAt: T0,
      goLiveDate: '2026-04-15',
      ownerUserId: csm.userId,
      status: 'active',
      timeZone: 'America/New_York',
      scheduleStatus: { status: 'on_track', expectedByNow: 0 },
    });
    expect(statuses(res.json)).toEqual({
      kickoff: 'open',
      integration: 'locked',
      training: 'locked',
    });
    expect(res.json.milestones[0]).toMatchObject({
      key: 'kickoff',
      dueDate: '2026-03-05',
      dueAt: '2026-03-06T05:00:00.000Z',
      openedAt: T0,
      overdueDays: 0,
      atRisk: false,
      completedOnTime: null,
    });

    const enterprise = await account({ segment: 'Enterprise' });
    const both = await enroll(enterprise.id, { startedAt: '2026-03-01T09:00:00+01:00' });
    expect(both.status, both.text).toBe(201);
    expect(both.json.startedAt).toBe('2026-03-01T08:00:00.000Z');
    expect(statuses(both.json)).toMatchObject({ sso: 'locked' });

    const trail = await call(
      server,
      'GET',
      `/api/v1/audit-events?entityType=enrollment&entityId=${res.json.id}`,
      { as: manager },
    );
    expect(trail.json.events).toHaveLength(1);
    expect(trail.json.events[0]).toMatchObject({
      action: 'enrollment.created',
      actor: { type: 'user', id: csm.userId },
      context: { programKey: 'three-step', version: 1 },
    });
  });

  it('refuses what cannot be enrolled, naming the fault', async () => {
    const a = await account();
    expect((await enroll(a.id, { programKey: 'nope' })).json.errors).toEqual([
      { field: 'body.programKey', message: 'no such program in this workspace' },
    ]);
    expect((await enroll(a.id, { version: 2 })).json).toMatchObject({
      status: 409,
      type: 'urn:waymark:problem:version-not-published',
    });
    expect((await enroll(a.id, { version: 7 })).status).toBe(400);
    expect((await enroll(a.id, { goLiveDate: '15/04/2026' })).status).toBe(400);
    expect((await enroll(a.id, { ownerUserId: 'someone-else' })).status).toBe(400);
    expect((await enroll(a.id)).status).toBe(201);
    expect((await enroll(a.id)).json).toMatchObject({
      status: 409,
      type: 'urn:waymark:problem:already-enrolled',
    });
    expect((await enroll(newId())).status).toBe(404);
    const asViewer = await call(server, 'POST', `/api/v1/accounts/${a.id}/enrollments`, {
      as: viewer,
      body: { programKey: 'three-step' },
    });
    expect(asViewer.status).toBe(403);
  });

  it('completes, waives and reopens through core’s transitions, refusing with 409s', async () => {
    const a = await account();
    const { id } = (await enroll(a.id)).json;

    const locked = await act(csm, id, 'training', 'complete', { evidence: { note: 'done' } });
    expect(locked.status).toBe(409);
    expect(locked.json).toMatchObject({
      type: 'urn:waymark:problem:milestone-locked',
      code: 'milestone_locked',
      milestoneKey: 'training',
      incompleteDependencies: ['integration'],
    });
    expect(locked.json.detail).toContain('"integration"');

    const noEvidence = await act(csm, id, 'kickoff', 'complete', { evidence: {} });
    expect(noEvidence.status).toBe(400);

    const done = await act(csm, id, 'kickoff', 'complete', {
      evidence: { note: 'Kickoff call held', url: 'https://example.com/notes/1' },
    });
    expect(done.status, done.text).toBe(200);
    expect(done.json.changes).toEqual([
      expect.objectContaining({
        type: 'milestone.completed',
        milestoneKey: 'kickoff',
        from: 'open',
        to: 'completed',
      }),
      expect.objectContaining({
        type: 'milestone.opened',
        milestoneKey: 'integration',
        from: 'locked',
        to: 'open',
      }),
    ]);
    const kickoff = done.json.enrollment.milestones[0];
    expect(kickoff).toMatchObject({
      status: 'completed',
      source: 'csm',
      evidence: { note: 'Kickoff call held', url: 'https://example.com/notes/1' },
      verifiedBy: { type: 'user', id: csm.userId },
      completedOnTime: true,
    });
    expect(
      (await act(csm, id, 'kickoff', 'complete', { evidence: { note: 'again' } })).json,
    ).toMatchObject({ status: 409, code: 'already_completed' });

    expect((await act(csm, id, 'integration', 'waive', { reason: 'manual' })).status).toBe(403);
    const waived = await act(manager, id, 'integration', 'waive', { reason: 'CSV upload instead' });
    expect(waived.status, waived.text).toBe(200);
    expect(statuses(waived.json.enrollment)).toEqual({
      kickoff: 'completed',
      integration: 'waived',
      training: 'open',
    });
    expect(waived.json.enrollment.milestones[1].waiver).toMatchObject({
      by: { type: 'user', id: manager.userId },
      reason: 'CSV upload instead',
    });

    const blocked = await act(manager, id, 'kickoff', 'reopen', { reason: 'wrong account' });
    expect(blocked.json).toMatchObject({
      status: 409,
      code: 'dependents_completed',
      dependents: ['integration'],
    });
    expect((await act(manager, id, 'kickoff', 'reopen', { reason: '  ' })).status).toBe(400);
    const reopened = await act(manager, id, 'kickoff', 'reopen', {
      reason: 'wrong account',
      cascade: true,
    });
    expect(reopened.status, reopened.text).toBe(200);
    expect(statuses(reopened.json.enrollment)).toEqual({
      kickoff: 'open',
      integration: 'locked',
      training: 'locked',
    });
    expect((await act(manager, id, 'nope', 'waive', { reason: 'x' })).status).toBe(404);
    expect((await act(manager, newId(), 'kickoff', 'waive', { reason: 'x' })).status).toBe(404);

    const progress = await call(server, 'GET', `/api/v1/accounts/${a.id}/progress`, { as: viewer });
    expect(statuses(progress.json.enrollments[0])).toEqual(statuses(reopened.json.enrollment));
  });

  it('lets a CSM complete a csm-verified milestone but not an auto-only one (409)', async () => {
    const a = await account();
    const { id } = (await enroll(a.id)).json;
    const verification = (key: string) =>
      program.milestones.find((m) => m.key === key)?.verification;
    expect(verification('kickoff')).toContain('csm');
    expect(verification('integration')).toEqual(['auto']);

    const kickoff = await act(csm, id, 'kickoff', 'complete', { evidence: { note: 'held' } });
    expect(kickoff.status, kickoff.text).toBe(200);
    expect(statuses(kickoff.json.enrollment)).toMatchObject({ integration: 'open' });

    const refused = await act(csm, id, 'integration', 'complete', {
      evidence: { note: 'looks synced to me' },
    });
    expect(refused.status, refused.text).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json).toMatchObject({
      type: 'urn:waymark:problem:verification-not-allowed',
      status: 409,
      code: 'verification_not_allowed',
      milestoneKey: 'integration',
      source: 'csm',
      allowed: ['auto'],
    });
    expect(refused.json.detail).toContain('"integration"');
    expect(refused.json.detail).toContain('a CSM cannot complete it');

    // Nothing changed, and a manager can still waive it.
    const progress = await call(server, 'GET', `/api/v1/accounts/${a.id}/progress`, { as: viewer });
    expect(statuses(progress.json.enrollments[0])).toEqual(statuses(kickoff.json.enrollment));
    const waived = await act(manager, id, 'integration', 'waive', { reason: 'CSV import' });
    expect(waived.status, waived.text).toBe(200);
  });

  it('keeps one audit event per transition, with before, after, reason and evidence', async () => {
    const a = await account();
    const { id } = (await enroll(a.id)).json;
    await act(csm, id, 'kickoff', 'complete', { evidence: { note: 'held' } });
    await act(manager, id, 'integration', 'waive', { reason: 'not needed' });
    await act(manager, id, 'kickoff', 'reopen', { reason: 'redo', cascade: true });
    const trail = await call(
      server,
      'GET',
      '/api/v1/audit-events?entityType=milestone_progress&limit=500',
      { as: manager },
    );
    interface Event {
      action: string;
      entity: { id: string };
      before: { status: string };
      after: { status: string };
      context: unknown;
    }
    const mine = (trail.json.events as Event[])
      .filter((e) => e.entity.id.startsWith(`${id}/`))
      .reverse();
    expect(
      mine.map((e) => [e.action, e.entity.id.split('/')[1], e.before.status, e.after.status]),
    ).toEqual([
      ['milestone.completed', 'kickoff', 'open', 'completed'],
      ['milestone.opened', 'integration', 'locked', 'open'],
      ['milestone.waived', 'integration', 'open', 'waived'],
      ['milestone.opened', 'training', 'locked', 'open'],
      ['milestone.reopened', 'kickoff', 'completed', 'open'],
      ['milestone.reopened', 'integration', 'waived', 'locked'],
      ['milestone.locked', 'training', 'open', 'locked'],
    ]);
    expect(mine[0]?.context).toEqual({ enrollmentId: id, evidence: { note: 'held' } });
    expect(mine[2]?.context).toMatchObject({ reason: 'not needed' });
    expect(mine[4]).toMatchObject({
      actor: { type: 'user', id: manager.userId },
      context: { reason: 'redo' },
      before: { status: 'completed', evidence: { note: 'held' } },
    });
  });

  it('shows schedule status on track, ahead, behind and at risk as days pass', async () => {
    const idle = await account();
    const busy = await account({ timeZone: 'Asia/Tokyo' });
    await enroll(idle.id);
    const busyId = (await enroll(busy.id)).json.id;
    const status = async (accountId: string) =>
      (await call(server, 'GET', `/api/v1/accounts/${accountId}/progress`, { as: viewer })).json;

    expect((await status(idle.id)).scheduleStatus.status).toBe('on_track');
    await act(csm, busyId, 'kickoff', 'complete', { evidence: { note: 'early' } });
    const ahead = await status(busy.id);
    expect(ahead.account.timeZone).toBe('Asia/Tokyo');
    expect(ahead.enrollments[0].milestones[0].dueDate).toBe('2026-03-06');
    expect(ahead.scheduleStatus).toMatchObject({ status: 'ahead', doneTotal: 1, expectedByNow: 0 });

    server.clock.advance(4 * 86_400_000); // 2026-03-06T15:00Z: kickoff (due 03-05 in New York) is late
    const behind = await status(idle.id);
    expect(behind.scheduleStatus).toMatchObject({
      status: 'behind',
      expectedByNow: 1,
      doneOfExpected: 0,
      ratio: 0,
      mostOverdueDays: 1,
    });
    expect(behind.enrollments[0].milestones[0]).toMatchObject({ overdueDays: 1, atRisk: false });
    expect((await status(busy.id)).scheduleStatus.status).toBe('on_track');

    // Started on 2026-02-20: kickoff was due 02-23, 11 days ago in New York.
    const stale = await account();
    const staleId = (await enroll(stale.id, { startedAt: '2026-02-20T15:00:00Z' })).json.id;
    const atRisk = await status(stale.id);
    expect(atRisk.scheduleStatus).toMatchObject({ status: 'at_risk', mostOverdueDays: 11 });
    expect(atRisk.enrollments[0].milestones[0]).toMatchObject({ overdueDays: 11, atRisk: true });
    const late = await act(csm, staleId, 'kickoff', 'complete', { evidence: { note: 'late' } });
    expect(late.json.enrollment.milestones[0]).toMatchObject({
      completedOnTime: false,
      overdueDays: 0,
    });
    // integration is due today (03-06): expected, not yet late
    expect(late.json.enrollment.scheduleStatus.status).toBe('on_track');
  });
});
