import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The de-duplication keeps an entry for every event: its workspace and its message id. Keyed by
 * the workspace's id, a text of 26 characters, the entries of 3 million events took 146 MB and
 * each insert 1.17–1.31 µs; keyed by a small integer, 62 MB and 0.83–1.15 µs (decision 0021).
 * Each workspace gets a `ref`, numbered 1, 2, 3… in the order the workspaces were created, and
 * `event_ids` is keyed by it.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  // A column added as NOT NULL needs a default on SQLite; the unique index refuses a second 0.
  await db.schema
    .alterTable('workspaces')
    .addColumn('ref', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  const { rows } = await sql<{ id: string }>`
    select id from workspaces order by created_at, id`.execute(db);
  for (const [i, row] of rows.entries()) {
    await sql`update workspaces set ref = ${i + 1} where id = ${row.id}`.execute(db);
  }
  if (dialect.engine === 'postgres') {
    await sql`alter table workspaces alter column ref drop default`.execute(db);
  }
  await db.schema.createIndex('workspaces_ref').unique().on('workspaces').column('ref').execute();

  await dialect
    .keyOrderedTable(
      db.schema
        .createTable('event_ids_by_ref')
        .addColumn('workspace_ref', 'integer', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_ids_ref_pk', ['workspace_ref', 'message_id']),
    )
    .execute();
  // In key order: SQLite appends to the index instead of inserting all over it.
  await sql`insert into event_ids_by_ref (workspace_ref, message_id)
    select workspaces.ref, event_ids.message_id
    from event_ids join workspaces on workspaces.id = event_ids.workspace_id
    order by 1, 2`.execute(db);
  await db.schema.dropTable('event_ids').execute();
  await db.schema.alterTable('event_ids_by_ref').renameTo('event_ids').execute();
}
