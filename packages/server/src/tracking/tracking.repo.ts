import {
  emptyMetricState,
  type MetricState,
  metricStateOf,
  type StoredMetricState,
  storedMetricState,
} from '@waymark/core';
import { CompiledQuery, type Insertable } from 'kysely';
import { type Account, toAccount } from '../accounts/accounts.repo.js';
import { fromDbJson, toCount, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { EnrollmentMetricsTable } from '../db/schema.js';

/** An active enrollment, as the tracking needs it. */
export interface TrackedEnrollment {
  id: string;
  accountId: string;
  programVersionId: string;
  startedAt: string;
}

export async function accountsByExternalId(
  db: Db,
  workspaceId: string,
  externalIds: readonly string[],
): Promise<Map<string, Account>> {
  if (externalIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('accounts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('external_id', 'in', externalIds)
    .execute();
  return new Map(rows.map((row) => [row.external_id, toAccount(row)]));
}

export async function activeEnrollmentsOf(
  db: Db,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<TrackedEnrollment[]> {
  if (accountIds.length === 0) return [];
  const rows = await db
    .selectFrom('enrollments')
    .select(['id', 'account_id', 'program_version_id', 'started_at'])
    .where('workspace_id', '=', workspaceId)
    .where('account_id', 'in', accountIds)
    .where('status', '=', 'active')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    accountId: row.account_id,
    programVersionId: row.program_version_id,
    startedAt: row.started_at,
  }));
}

export async function findTrackedEnrollment(
  db: Db,
  workspaceId: string,
  enrollmentId: string,
): Promise<(TrackedEnrollment & { status: string }) | undefined> {
  const row = await db
    .selectFrom('enrollments')
    .select(['id', 'account_id', 'program_version_id', 'started_at', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', enrollmentId)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      accountId: row.account_id,
      programVersionId: row.program_version_id,
      startedAt: row.started_at,
      status: row.status,
    }
  );
}

export interface StoredMetrics {
  state: MetricState;
  rebuildRequested: boolean;
}

/**
 * Enrollments' kept metrics and whether a rebuild was requested; `known` gives states already
 * at hand, which are then not read (a state is the larger part of a row).
 */
export async function metricsOf(
  db: Db,
  workspaceId: string,
  enrollmentIds: readonly string[],
  known: (enrollmentId: string) => MetricState | undefined = () => undefined,
): Promise<Map<string, StoredMetrics>> {
  if (enrollmentIds.length === 0) return new Map();
  // The flags of all, then the states of those neither at hand nor to be rebuilt.
  const metricsRows = (ids: readonly string[]) =>
    db
      .selectFrom('enrollment_metrics')
      .where('workspace_id', '=', workspaceId)
      .where('enrollment_id', 'in', ids);
  const rows = await metricsRows(enrollmentIds)
    .select(['enrollment_id', 'rebuild_requested_at'])
    .execute();
  const unknown = rows
    .filter((row) => row.rebuild_requested_at === null && known(row.enrollment_id) === undefined)
    .map((row) => row.enrollment_id);
  const states = new Map<string, MetricState>();
  if (unknown.length > 0) {
    const stored = await metricsRows(unknown).select(['enrollment_id', 'state']).execute();
    for (const row of stored)
      states.set(row.enrollment_id, metricStateOf(fromDbJson<StoredMetricState>(row.state)));
  }
  return new Map(
    rows.map((row) => [
      row.enrollment_id,
      {
        state: known(row.enrollment_id) ?? states.get(row.enrollment_id) ?? emptyMetricState(),
        rebuildRequested: row.rebuild_requested_at !== null,
      },
    ]),
  );
}

/**
 * Stores enrollments' metrics. A rebuild request stays, unless `rebuilt` says these states
 * were just computed again from the events: a request made meanwhile is not lost.
 */
export async function saveMetrics(
  db: Db,
  workspaceId: string,
  states: ReadonlyMap<string, MetricState>,
  now: string,
  { rebuilt }: { rebuilt: boolean },
): Promise<void> {
  const rows = [...states].map(([enrollmentId, state]) => ({
    enrollment_id: enrollmentId,
    workspace_id: workspaceId,
    state: toDbJson(storedMetricState(state)),
    rebuild_requested_at: null,
    updated_at: now,
  }));
  // 5 columns: 1,000 rows stay well under both engines' bound-parameter limits.
  for (let i = 0; i < rows.length; i += 1000) {
    await upsertMetrics(db, rows.slice(i, i + 1000), rebuilt);
  }
}

async function upsertMetrics(
  db: Db,
  rows: Insertable<EnrollmentMetricsTable>[],
  rebuilt: boolean,
): Promise<void> {
  await db
    .insertInto('enrollment_metrics')
    .values(rows)
    .onConflict((oc) =>
      oc.column('enrollment_id').doUpdateSet((eb) => ({
        state: eb.ref('excluded.state'),
        ...(rebuilt && { rebuild_requested_at: eb.ref('excluded.rebuild_requested_at') }),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/**
 * Asks the tracking to compute these enrollments' metrics again from the stored events: a new
 * enrollment, a new program version, a late event that decided a criterion, a backfill.
 */
export async function requestRebuild(
  db: Db,
  workspaceId: string,
  enrollmentIds: readonly string[],
  now: string,
): Promise<void> {
  if (enrollmentIds.length === 0) return;
  await db
    .insertInto('enrollment_metrics')
    .values(
      [...new Set(enrollmentIds)].map((enrollmentId) => ({
        enrollment_id: enrollmentId,
        workspace_id: workspaceId,
        state: toDbJson(storedMetricState(emptyMetricState())),
        rebuild_requested_at: now,
        updated_at: now,
      })),
    )
    .onConflict((oc) =>
      oc.column('enrollment_id').doUpdateSet((eb) => ({
        rebuild_requested_at: eb.ref('excluded.rebuild_requested_at'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

/** Enrollments waiting for a rebuild, oldest request first; claimed until the transaction ends. */
export async function claimRebuilds(
  db: Db,
  dialect: Dialect,
  limit: number,
): Promise<{ enrollmentId: string; workspaceId: string }[]> {
  const rows = await db
    .selectFrom('enrollment_metrics')
    .select(['enrollment_id', 'workspace_id'])
    .where('rebuild_requested_at', 'is not', null)
    .orderBy('rebuild_requested_at')
    .limit(limit)
    .$if(dialect.capabilities.concurrentWorkers, (q) => q.forUpdate().skipLocked())
    .execute();
  return rows.map((row) => ({ enrollmentId: row.enrollment_id, workspaceId: row.workspace_id }));
}

/** Whether any enrollment waits for its metrics to be rebuilt: read without claiming one. */
export async function rebuildsRequested(db: Db): Promise<boolean> {
  const { rows } = await db.executeQuery(REBUILD_REQUESTED);
  return rows.length > 0;
}

// Asked with every chunk: written out once, as the builder would on either engine. Ordered as
// the partial index of requests is, so that index answers it whatever the planner's statistics
// say: without the order, statistics taken while many rebuilds waited made PostgreSQL scan the
// whole table for none after every chunk, a table that grows with every metrics update until
// it is vacuumed (decision 0018).
export const REBUILD_REQUESTED = CompiledQuery.raw(
  'select enrollment_id from enrollment_metrics where rebuild_requested_at is not null order by rebuild_requested_at limit 1',
);

export async function updateAccountTraits(
  db: Db,
  workspaceId: string,
  accountId: string,
  traits: Record<string, unknown>,
  now: string,
): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ traits: toDbJson(traits), updated_at: now })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', accountId)
    .execute();
}

// requestRebuild binds 5 values a row: 1,000 rows stay under either engine's parameter limit.
const REBUILDS_PER_STATEMENT = 1000;

/**
 * Requests a rebuild of every active enrollment of the workspace (of one program, by its id,
 * when given), so the tracking computes them again from the stored events; returns how many.
 */
export async function requestBackfill(
  db: Db,
  workspaceId: string,
  programId: string | null,
  now: string,
): Promise<number> {
  const rows = await db
    .selectFrom('enrollments')
    .innerJoin('program_versions', 'program_versions.id', 'enrollments.program_version_id')
    .select('enrollments.id')
    .where('enrollments.workspace_id', '=', workspaceId)
    .where('enrollments.status', '=', 'active')
    .$if(programId !== null, (q) => q.where('program_versions.program_id', '=', programId ?? ''))
    .orderBy('enrollments.id')
    .execute();
  const ids = rows.map((row) => row.id);
  for (let i = 0; i < ids.length; i += REBUILDS_PER_STATEMENT) {
    await requestRebuild(db, workspaceId, ids.slice(i, i + REBUILDS_PER_STATEMENT), now);
  }
  return ids.length;
}

/** How many of the workspace's enrollments wait for a rebuild. */
export async function countPendingRebuilds(db: Db, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('enrollment_metrics')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('workspace_id', '=', workspaceId)
    .where('rebuild_requested_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return toCount(row.count);
}

/** How many milestones are completed in the workspace's enrollments (of one program, when given). */
export async function countCompletedMilestones(
  db: Db,
  workspaceId: string,
  programId: string | null,
): Promise<number> {
  const row = await db
    .selectFrom('milestone_progress')
    .innerJoin('enrollments', 'enrollments.id', 'milestone_progress.enrollment_id')
    .innerJoin('program_versions', 'program_versions.id', 'enrollments.program_version_id')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('milestone_progress.workspace_id', '=', workspaceId)
    .where('milestone_progress.status', '=', 'completed')
    .$if(programId !== null, (q) => q.where('program_versions.program_id', '=', programId ?? ''))
    .executeTakeFirstOrThrow();
  return toCount(row.count);
}
