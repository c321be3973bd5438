import type { Actor, MilestoneProgress } from '@waymark/core';
import { type Selectable, sql } from 'kysely';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { MilestoneProgressTable } from '../db/schema.js';

const actorOf = (type: string | null, id: string | null): Actor | null =>
  type === null ? null : { type: type as Actor['type'], id };

const toProgress = (row: Selectable<MilestoneProgressTable>): MilestoneProgress => ({
  milestoneKey: row.milestone_key,
  status: row.status,
  openedAt: row.opened_at,
  completedAt: row.completed_at,
  completionSource: row.completion_source,
  evidence: fromDbJson<Record<string, unknown>>(row.evidence),
  verifiedBy: actorOf(row.verified_by_type, row.verified_by_id),
  waivedAt: row.waived_at,
  waivedBy: actorOf(row.waived_by_type, row.waived_by_id),
  waiverReason: row.waiver_reason,
});

/** A milestone's progress as its stored row. */
export const progressRow = (
  workspaceId: string,
  enrollmentId: string,
  p: MilestoneProgress,
  at: string,
): MilestoneProgressTable => ({
  workspace_id: workspaceId,
  enrollment_id: enrollmentId,
  milestone_key: p.milestoneKey,
  status: p.status,
  opened_at: p.openedAt,
  completed_at: p.completedAt,
  completion_source: p.completionSource,
  evidence: p.evidence === null ? null : toDbJson(p.evidence),
  verified_by_type: p.verifiedBy?.type ?? null,
  verified_by_id: p.verifiedBy?.id ?? null,
  waived_at: p.waivedAt,
  waived_by_type: p.waivedBy?.type ?? null,
  waived_by_id: p.waivedBy?.id ?? null,
  waiver_reason: p.waiverReason,
  updated_at: at,
});

export async function listProgress(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
): Promise<MilestoneProgress[]> {
  const rows = await db
    .selectFrom('milestone_progress')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('enrollment_id', '=', enrollmentId)
    .orderBy('milestone_key')
    .execute();
  return rows.map(toProgress);
}

/** The progress of several enrollments at once, by enrollment id. */
export async function listProgressOfEnrollments(
  db: Db,
  workspaceId: string,
  enrollmentIds: readonly string[],
): Promise<Map<string, MilestoneProgress[]>> {
  const byEnrollment = new Map<string, MilestoneProgress[]>(enrollmentIds.map((id) => [id, []]));
  if (enrollmentIds.length === 0) return byEnrollment;
  const rows = await db
    .selectFrom('milestone_progress')
    .selectAll()
    // `|| ''` keeps SQLite off the (workspace, status) index, which for a long id list it
    // prefers to the primary key, reading every row of the workspace.
    .where(sql<string>`workspace_id || ''`, '=', workspaceId)
    .where('enrollment_id', 'in', enrollmentIds)
    .orderBy('enrollment_id')
    .orderBy('milestone_key')
    .execute();
  for (const row of rows) byEnrollment.get(row.enrollment_id)?.push(toProgress(row));
  return byEnrollment;
}

/**
 * Writes the given milestones' progress, inserting new rows and replacing changed
 * ones. When a milestone appears more than once (a sequence of changes), its last
 * state wins: PostgreSQL refuses an upsert touching one row twice.
 */
export async function saveProgress(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
  progress: MilestoneProgress[],
  at: string,
): Promise<void> {
  if (progress.length === 0) return;
  const latest = new Map(progress.map((p) => [p.milestoneKey, p]));
  const rows = [...latest.values()].map((p) => progressRow(workspaceId, enrollmentId, p, at));
  await db
    .insertInto('milestone_progress')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['enrollment_id', 'milestone_key'])
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          opened_at: eb.ref('excluded.opened_at'),
          completed_at: eb.ref('excluded.completed_at'),
          completion_source: eb.ref('excluded.completion_source'),
          evidence: eb.ref('excluded.evidence'),
          verified_by_type: eb.ref('excluded.verified_by_type'),
          verified_by_id: eb.ref('excluded.verified_by_id'),
          waived_at: eb.ref('excluded.waived_at'),
          waived_by_type: eb.ref('excluded.waived_by_type'),
          waived_by_id: eb.ref('excluded.waived_by_id'),
          waiver_reason: eb.ref('excluded.waiver_reason'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('milestone_progress.workspace_id', '=', workspaceId),
    )
    .execute();
}
