import { completeMilestone, initialProgress, waiveMilestone } from '@waymark/core';
import { expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import {
  findProgramVersion,
  insertProgram,
  insertProgramVersion,
  listProgramVersions,
  publishProgramVersion,
} from '../programs/programs.repo.js';
import { describeEngines } from '../testing/describe-engines.js';
import {
  makeAccount,
  makeUser,
  makeWorkspace,
  T0,
  threeStepProgram,
} from '../testing/factories.js';
import {
  type Enrollment,
  findEnrollment,
  insertEnrollment,
  listEnrollmentsForAccount,
} from './enrollments.repo.js';
import { listProgress, saveProgress } from './progress.repo.js';

const byKey = <T extends { milestoneKey: string }>(rows: T[]) =>
  [...rows].sort((a, b) => a.milestoneKey.localeCompare(b.milestoneKey));

describeEngines('programs, enrollments and milestone progress', (use) => {
  async function enrolled() {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const csm = await makeUser(db, ws.id, 'csm');
    const account = await makeAccount(db, ws.id, { ownerUserId: csm.id });
    const programId = newId();
    await insertProgram(db, {
      id: programId,
      workspaceId: ws.id,
      key: 'three-step',
      name: 'Three step',
      createdAt: T0,
      updatedAt: T0,
    });
    const versionId = newId();
    await insertProgramVersion(db, {
      id: versionId,
      workspaceId: ws.id,
      programId,
      version: 1,
      status: 'draft',
      definition: threeStepProgram,
      definitionHash: 'h1',
      publishedAt: null,
      createdAt: T0,
    });
    const enrollment: Enrollment = {
      id: newId(),
      workspaceId: ws.id,
      accountId: account.id,
      programVersionId: versionId,
      startedAt: T0,
      goLiveDate: '2026-04-15',
      ownerUserId: csm.id,
      variant: null,
      status: 'active',
      createdAt: T0,
      updatedAt: T0,
    };
    await insertEnrollment(db, enrollment);
    return { db, ws, csm, account, programId, versionId, enrollment };
  }

  it('publishes a version once; a published definition never changes', async () => {
    const { db, ws, programId, versionId } = await enrolled();
    expect(await publishProgramVersion(db, ws.id, versionId, '2026-03-03T00:00:00.000Z')).toBe(
      true,
    );
    expect(await publishProgramVersion(db, ws.id, versionId, '2026-03-04T00:00:00.000Z')).toBe(
      false,
    );
    const version = await findProgramVersion(db, ws.id, versionId);
    expect(version).toMatchObject({
      status: 'published',
      publishedAt: '2026-03-03T00:00:00.000Z',
      definition: threeStepProgram,
    });
    expect((await listProgramVersions(db, ws.id, programId)).map((v) => v.version)).toEqual([1]);
    expect(await findProgramVersion(db, (await makeWorkspace(db)).id, versionId)).toBeUndefined();
  });

  it('stores an enrollment pinned to its version, visible only in its workspace', async () => {
    const { db, ws, account, enrollment } = await enrolled();
    expect(await findEnrollment(db, ws.id, enrollment.id)).toEqual(enrollment);
    expect(await listEnrollmentsForAccount(db, ws.id, account.id)).toEqual([enrollment]);
    const other = await makeWorkspace(db);
    expect(await findEnrollment(db, other.id, enrollment.id)).toBeUndefined();
    expect(await listEnrollmentsForAccount(db, other.id, account.id)).toEqual([]);
  });

  it('round-trips progress through completion and waiver exactly as core computed it', async () => {
    const { db, ws, csm, enrollment } = await enrolled();
    const actor = { type: 'user' as const, id: csm.id };
    let progress = initialProgress(threeStepProgram, T0, { segment: 'Mid-Market' });
    await saveProgress(db, ws.id, enrollment.id, progress, T0);
    expect(await listProgress(db, ws.id, enrollment.id)).toEqual(byKey(progress));

    const completed = completeMilestone(threeStepProgram, progress, {
      milestoneKey: 'kickoff',
      at: '2026-03-04T16:30:00.000Z',
      source: 'csm',
      evidence: { note: 'kickoff call held', attendees: 6, recording: null },
      actor,
    });
    if (!completed.ok) throw new Error(completed.error.message);
    const waived = waiveMilestone(threeStepProgram, completed.value.progress, {
      milestoneKey: 'integration',
      at: '2026-03-05T10:00:00.000Z',
      actor,
      reason: 'customer uses CSV exports instead',
    });
    if (!waived.ok) throw new Error(waived.error.message);
    progress = waived.value.progress;
    const changed = [...completed.value.changes, ...waived.value.changes].map((c) => c.after);
    await saveProgress(db, ws.id, enrollment.id, changed, '2026-03-05T10:00:00.000Z');

    const stored = await listProgress(db, ws.id, enrollment.id);
    expect(stored).toEqual(
      [...progress].sort((a, b) => a.milestoneKey.localeCompare(b.milestoneKey)),
    );
    expect(stored.find((p) => p.milestoneKey === 'training')?.status).toBe('open');
    expect(await listProgress(db, (await makeWorkspace(db)).id, enrollment.id)).toEqual([]);
  });
});
