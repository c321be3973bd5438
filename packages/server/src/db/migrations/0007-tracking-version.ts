import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * What the tracking reads besides the events, and whatever else writes it: on SQLite the
 * tracking reads and computes without the write lock, then checks, holding it, that no one
 * changed any of these since (decision 0015). Every change to them counts one.
 */
export const TRACKING_INPUTS = [
  'accounts',
  'enrollments',
  'enrollment_metrics',
  'milestone_progress',
  'program_versions',
  'workspaces',
] as const;

export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await db.schema
    .createTable('tracking_version')
    .addColumn('id', 'integer', (c) => c.primaryKey().notNull())
    .addColumn('changes', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into tracking_version (id, changes) values (1, 0)`.execute(db);
  // The tracking looks for requested rebuilds between every two chunks: the few, not every row.
  await db.schema
    .createIndex('enrollment_metrics_rebuild_requested')
    .on('enrollment_metrics')
    .column('rebuild_requested_at')
    .where(sql.ref('rebuild_requested_at'), 'is not', null)
    .execute();
  // PostgreSQL's tracking reads and writes in one transaction, holding its cursor's lock.
  if (!dialect.capabilities.optimisticTracking) return;
  const count = sql.raw('update tracking_version set changes = changes + 1 where id = 1');
  for (const table of TRACKING_INPUTS) {
    for (const change of ['insert', 'update', 'delete']) {
      await sql`create trigger ${sql.raw(`${table}_${change}_counted`)}
        after ${sql.raw(change)} on ${sql.table(table)}
        begin ${count}; end`.execute(db);
    }
  }
  // Another process's tracking moving the cursor.
  await sql`create trigger tracking_cursor_update_counted
    after update on tracking_cursor when new.name = 'events'
    begin ${count}; end`.execute(db);
}
