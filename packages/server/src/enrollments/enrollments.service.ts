import {
  type Actor,
  completeMilestone,
  initialProgress,
  type MilestoneProgress,
  milestoneSchedule,
  milestoneTiming,
  type ProgressChange,
  type ProgressError,
  reopenMilestone,
  type ScheduleStatus,
  type ScheduleStatusValue,
  scheduleStatus,
  type TransitionResult,
  waiveMilestone,
} from '@waymark/core';
import { type Account, findAccount } from '../accounts/accounts.repo.js';
import { recordAudit } from '../audit/record-audit.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { HttpProblem, invalidField, notFound } from '../http/problem.js';
import {
  findProgramByKey,
  findProgramVersion,
  listProgramVersions,
  type ProgramVersion,
} from '../programs/programs.repo.js';
import { refuseIfArchived } from '../programs/programs.service.js';
import { requestRebuild } from '../tracking/tracking.repo.js';
import { findUser } from '../users/users.repo.js';
import { findWorkspace, type Workspace } from '../workspaces/workspaces.repo.js';
import {
  type Enrollment,
  findEnrollment,
  insertEnrollment,
  listEnrollmentsForAccount,
} from './enrollments.repo.js';
import { listProgress, saveProgress } from './progress.repo.js';
import { recordProgressChanges } from './record-progress-changes.js';

export interface EnrollInput {
  programKey: string;
  version?: number | undefined;
  startedAt: string;
  goLiveDate?: string | null | undefined;
  ownerUserId?: string | null | undefined;
}

const accountNotFound = () => notFound('account in this workspace');
const enrollmentNotFound = () => notFound('enrollment in this workspace');

/** One milestone of an enrollment as the API shows it: stored progress plus derived timing. */
function milestoneView(
  version: ProgramVersion,
  progress: readonly MilestoneProgress[],
  enrollment: Enrollment,
  workspace: Workspace,
  timeZone: string,
  now: string,
) {
  const program = version.definition;
  const schedule = milestoneSchedule(
    program,
    { startedAt: enrollment.startedAt, timeZone },
    { holidays: workspace.settings.holidays },
  );
  const dueByKey = new Map(schedule.map((due) => [due.milestoneKey, due]));
  const rows = new Map(progress.map((row) => [row.milestoneKey, row]));
  const settings = { atRiskAfterDays: workspace.settings.atRiskAfterDays };
  const milestones = program.milestones.flatMap((milestone) => {
    const row = rows.get(milestone.key);
    const due = dueByKey.get(milestone.key);
    if (row === undefined || due === undefined) return [];
    return [
      {
        key: milestone.key,
        title: milestone.title,
        phase: milestone.phase,
        dueDate: due.dueDate,
        dueAt: due.dueAt,
        status: row.status,
        openedAt: row.openedAt,
        completedAt: row.completedAt,
        source: row.completionSource,
        evidence: row.evidence,
        verifiedBy: row.verifiedBy,
        waiver:
          row.status === 'waived' && row.waivedAt !== null
            ? { at: row.waivedAt, by: row.waivedBy, reason: row.waiverReason }
            : null,
        ...milestoneTiming(row, due, now, timeZone, settings),
      },
    ];
  });
  return {
    milestones,
    scheduleStatus: scheduleStatus(program, progress, schedule, now, timeZone, settings),
  };
}

function enrollmentView(
  enrollment: Enrollment,
  version: ProgramVersion,
  progress: readonly MilestoneProgress[],
  workspace: Workspace,
  account: Account,
  now: string,
) {
  const timeZone = account.timeZone ?? workspace.timeZone;
  return {
    id: enrollment.id,
    accountId: enrollment.accountId,
    program: {
      key: version.definition.key,
      name: version.definition.name,
      version: version.version,
      versionId: version.id,
    },
    startedAt: enrollment.startedAt,
    goLiveDate: enrollment.goLiveDate,
    ownerUserId: enrollment.ownerUserId,
    variant: enrollment.variant,
    status: enrollment.status,
    timeZone,
    createdAt: enrollment.createdAt,
    updatedAt: enrollment.updatedAt,
    ...milestoneView(version, progress, enrollment, workspace, timeZone, now),
  };
}
export type EnrollmentView = ReturnType<typeof enrollmentView>;

async function requireWorkspace(db: Db, workspaceId: string): Promise<Workspace> {
  const workspace = await findWorkspace(db, workspaceId);
  if (!workspace) throw new Error(`workspace ${workspaceId} is missing`);
  return workspace;
}

async function requireVersion(db: Db, enrollment: Enrollment): Promise<ProgramVersion> {
  const version = await findProgramVersion(db, enrollment.workspaceId, enrollment.programVersionId);
  if (!version) throw new Error(`enrollment ${enrollment.id} without its program version`);
  return version;
}

/** Enrolls an account in a published program version and opens what nothing gates. */
export async function enrollAccount(
  db: Db,
  workspaceId: string,
  accountId: string,
  input: EnrollInput,
  actor: Actor,
  now: string,
): Promise<EnrollmentView> {
  return db.transaction().execute(async (trx) => {
    const account = await findAccount(trx, workspaceId, accountId);
    if (!account) throw accountNotFound();
    const program = await findProgramByKey(trx, workspaceId, input.programKey);
    if (!program) throw invalidField('body.programKey', 'no such program in this workspace');
    refuseIfArchived(program, 'take new enrollments');
    const versions = await listProgramVersions(trx, workspaceId, program.id);
    let version: ProgramVersion | undefined;
    if (input.version === undefined) {
      version = versions.filter((v) => v.status === 'published').at(-1);
      if (!version) {
        throw new HttpProblem(
          409,
          'program-not-published',
          'Program not published',
          `program ${program.key} has no published version to enroll in`,
        );
      }
    } else {
      version = versions.find((v) => v.version === input.version);
      if (!version)
        throw invalidField('body.version', `program ${program.key} has no such version`);
      if (version.status !== 'published') {
        throw new HttpProblem(
          409,
          'version-not-published',
          'Version not published',
          `version ${version.version} of ${program.key} is a draft; only published versions take enrollments`,
        );
      }
    }
    if (input.ownerUserId && !(await findUser(trx, workspaceId, input.ownerUserId))) {
      throw invalidField('body.ownerUserId', 'no such person in this workspace');
    }
    const versionIds = new Set(versions.map((v) => v.id));
    const current = (await listEnrollmentsForAccount(trx, workspaceId, account.id)).find(
      (e) => e.status === 'active' && versionIds.has(e.programVersionId),
    );
    if (current) {
      throw new HttpProblem(
        409,
        'already-enrolled',
        'Already enrolled',
        `the account has an active enrollment in ${program.key}`,
        { enrollmentId: current.id },
      );
    }
    const enrollment: Enrollment = {
      id: newId(),
      workspaceId,
      accountId: account.id,
      programVersionId: version.id,
      startedAt: input.startedAt,
      goLiveDate: input.goLiveDate ?? null,
      ownerUserId: input.ownerUserId ?? null,
      variant: null,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    const progress = initialProgress(version.definition, enrollment.startedAt, account);
    await insertEnrollment(trx, enrollment);
    await saveProgress(trx, workspaceId, enrollment.id, progress, now);
    // The account's events so far, even from before it was known, count from the start.
    await requestRebuild(trx, workspaceId, [enrollment.id], now);
    const { workspaceId: _w, ...after } = enrollment;
    await recordAudit(
      trx,
      workspaceId,
      now,
      actor,
      'enrollment.created',
      { type: 'enrollment', id: enrollment.id },
      {
        after,
        context: {
          programKey: program.key,
          version: version.version,
          milestones: progress.map((p) => ({ key: p.milestoneKey, status: p.status })),
        },
      },
    );
    const workspace = await requireWorkspace(trx, workspaceId);
    return enrollmentView(enrollment, version, progress, workspace, account, now);
  });
}

const RANK: Record<ScheduleStatusValue, number> = { at_risk: 0, behind: 1, on_track: 2, ahead: 3 };

/** Every active enrollment of the account with its milestones, timing and schedule status. */
export async function accountProgress(db: Db, workspaceId: string, accountId: string, now: string) {
  const account = await findAccount(db, workspaceId, accountId);
  if (!account) throw accountNotFound();
  const workspace = await requireWorkspace(db, workspaceId);
  const enrollments = (await listEnrollmentsForAccount(db, workspaceId, account.id)).filter(
    (e) => e.status === 'active',
  );
  const views = await Promise.all(
    enrollments.map(async (enrollment) =>
      enrollmentView(
        enrollment,
        await requireVersion(db, enrollment),
        await listProgress(db, workspaceId, enrollment.id),
        workspace,
        account,
        now,
      ),
    ),
  );
  const worst = views
    .map((v) => v.scheduleStatus)
    .sort((a, b) => RANK[a.status] - RANK[b.status])[0];
  return {
    account: {
      id: account.id,
      externalId: account.externalId,
      name: account.name,
      segment: account.segment,
      timeZone: account.timeZone ?? workspace.timeZone,
    },
    asOf: now,
    /** The worst status over the active enrollments; null when there are none. */
    scheduleStatus: (worst ?? null) as ScheduleStatus | null,
    enrollments: views,
  };
}

export type MilestoneAction =
  | { type: 'complete'; evidence: Record<string, unknown>; source: 'csm' }
  | { type: 'waive'; reason: string }
  | { type: 'reopen'; reason: string; cascade: boolean };

const PROBLEM_TITLES: Record<ProgressError['code'], string> = {
  unknown_milestone: 'Milestone not tracked',
  invalid_timestamp: 'Invalid time',
  milestone_locked: 'Milestone locked',
  already_completed: 'Milestone already completed',
  already_waived: 'Milestone waived',
  not_done: 'Milestone not done',
  reason_required: 'Reason required',
  dependents_completed: 'Dependents are done',
  verification_not_allowed: 'Verification method not allowed',
};

/**
 * A refusal from core's transitions, as a problem that names the fault: 409 for a milestone
 * whose state or verification does not allow the change (e.g. `verification-not-allowed` when
 * the milestone is verified only automatically or by the client), 400 for a missing reason.
 */
function progressProblem(error: ProgressError): HttpProblem {
  const { message, ...fields } = error;
  if (error.code === 'unknown_milestone')
    return notFound(`milestone ${error.milestoneKey} in this enrollment`);
  const status = error.code === 'reason_required' ? 400 : 409;
  return new HttpProblem(
    status,
    error.code.replaceAll('_', '-'),
    PROBLEM_TITLES[error.code],
    message,
    fields,
  );
}

/**
 * Applies one of core's transitions to a milestone: saves the rows that changed and appends
 * one audit event per ProgressChange, in one transaction.
 */
export async function changeMilestone(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
  milestoneKey: string,
  action: MilestoneAction,
  actor: Actor,
  now: string,
): Promise<{ changes: ProgressChange[]; enrollment: EnrollmentView }> {
  return db.transaction().execute(async (trx) => {
    // Touching the enrollment first serializes concurrent changes to it on both engines.
    const touched = await trx
      .updateTable('enrollments')
      .set({ updated_at: now })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', enrollmentId)
      .executeTakeFirst();
    if (touched.numUpdatedRows === 0n) throw enrollmentNotFound();
    const enrollment = await findEnrollment(trx, workspaceId, enrollmentId);
    if (!enrollment) throw enrollmentNotFound();
    if (enrollment.status !== 'active') {
      throw new HttpProblem(
        409,
        'enrollment-not-active',
        'Enrollment not active',
        `the enrollment is ${enrollment.status}`,
      );
    }
    const version = await requireVersion(trx, enrollment);
    const progress = await listProgress(trx, workspaceId, enrollment.id);
    const program = version.definition;
    const base = { milestoneKey, at: now, actor };
    const result: TransitionResult =
      action.type === 'complete'
        ? completeMilestone(program, progress, {
            ...base,
            source: action.source,
            evidence: action.evidence,
          })
        : action.type === 'waive'
          ? waiveMilestone(program, progress, { ...base, reason: action.reason })
          : reopenMilestone(program, progress, {
              ...base,
              reason: action.reason,
              cascade: action.cascade,
            });
    if (!result.ok) throw progressProblem(result.error);
    const { changes } = result.value;
    await recordProgressChanges(trx, workspaceId, enrollment.id, changes, now);
    // A milestone this opened may already be met by the product data.
    await requestRebuild(trx, workspaceId, [enrollment.id], now);
    const account = await findAccount(trx, workspaceId, enrollment.accountId);
    if (!account) throw new Error(`enrollment ${enrollment.id} without its account`);
    const workspace = await requireWorkspace(trx, workspaceId);
    const updated = { ...enrollment, updatedAt: now };
    return {
      changes,
      enrollment: enrollmentView(updated, version, result.value.progress, workspace, account, now),
    };
  });
}
