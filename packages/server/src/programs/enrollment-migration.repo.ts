import type { Db } from '../db/database.js';

/** An active enrollment pinned to a version, with the account segment that decides its milestones. */
export interface PinnedEnrollment {
  id: string;
  accountId: string;
  segment: string | null;
}

export async function listActiveEnrollmentsOnVersion(
  db: Db,
  workspaceId: string,
  programVersionId: string,
): Promise<PinnedEnrollment[]> {
  const rows = await db
    .selectFrom('enrollments')
    .innerJoin('accounts', 'accounts.id', 'enrollments.account_id')
    .select(['enrollments.id as id', 'enrollments.account_id as accountId', 'accounts.segment'])
    .where('enrollments.workspace_id', '=', workspaceId)
    .where('accounts.workspace_id', '=', workspaceId)
    .where('enrollments.program_version_id', '=', programVersionId)
    .where('enrollments.status', '=', 'active')
    .orderBy('enrollments.started_at')
    .orderBy('enrollments.id')
    .execute();
  return rows.map((row) => ({ id: row.id, accountId: row.accountId, segment: row.segment }));
}

/** Moves an enrollment to another version of its program. */
export async function repinEnrollment(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
  programVersionId: string,
  at: string,
): Promise<void> {
  await db
    .updateTable('enrollments')
    .set({ program_version_id: programVersionId, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', enrollmentId)
    .execute();
}

/** Drops the progress rows of milestones the enrollment's new version no longer has. */
export async function deleteProgressRows(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
  milestoneKeys: string[],
): Promise<void> {
  if (milestoneKeys.length === 0) return;
  await db
    .deleteFrom('milestone_progress')
    .where('workspace_id', '=', workspaceId)
    .where('enrollment_id', '=', enrollmentId)
    .where('milestone_key', 'in', milestoneKeys)
    .execute();
}
