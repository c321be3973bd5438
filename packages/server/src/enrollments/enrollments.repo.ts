import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { EnrollmentsTable } from '../db/schema.js';

export interface Enrollment {
  id: string;
  workspaceId: string;
  accountId: string;
  /** Pinned: an enrollment follows one published version until it is moved on purpose. */
  programVersionId: string;
  /** Contract or kickoff: day 0 of the schedule. */
  startedAt: string;
  /** The go-live date agreed at kickoff, `YYYY-MM-DD`. */
  goLiveDate: string | null;
  ownerUserId: string | null;
  variant: string | null;
  status: 'active' | 'completed' | 'cancelled';
  createdAt: string;
  updatedAt: string;
}

const toEnrollment = (row: Selectable<EnrollmentsTable>): Enrollment => ({
  id: row.id,
  workspaceId: row.workspace_id,
  accountId: row.account_id,
  programVersionId: row.program_version_id,
  startedAt: row.started_at,
  goLiveDate: row.go_live_date,
  ownerUserId: row.owner_user_id,
  variant: row.variant,
  status: row.status,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** An enrollment as its row is written. */
export function enrollmentRow(e: Enrollment): Insertable<EnrollmentsTable> {
  return {
    id: e.id,
    workspace_id: e.workspaceId,
    account_id: e.accountId,
    program_version_id: e.programVersionId,
    started_at: e.startedAt,
    go_live_date: e.goLiveDate,
    owner_user_id: e.ownerUserId,
    variant: e.variant,
    status: e.status,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

export async function insertEnrollment(db: Db, e: Enrollment): Promise<void> {
  await db.insertInto('enrollments').values(enrollmentRow(e)).execute();
}

export async function findEnrollment(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<Enrollment | undefined> {
  const row = await db
    .selectFrom('enrollments')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toEnrollment(row);
}

export async function listEnrollmentsForAccount(
  db: Db,
  workspaceId: string,
  accountId: string,
): Promise<Enrollment[]> {
  const rows = await db
    .selectFrom('enrollments')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('account_id', '=', accountId)
    .orderBy('started_at')
    .execute();
  return rows.map(toEnrollment);
}
