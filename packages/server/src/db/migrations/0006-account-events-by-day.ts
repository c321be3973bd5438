import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The account index is grouped by account and UTC day (decision 0012). On PostgreSQL its key
 * was one index entry per event, inserted at every active account's place: past the server's
 * buffers it was read and written back from disk on every bulk, and the tracking fell behind.
 * Grouped by day, an account's entries share index entries, and its newest day is read first.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await db.schema.alterTable('account_events').renameTo('account_events_by_time').execute();
  const { table, indexes } = dialect.groupedTable(
    db.schema
      .createTable('account_events')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('account_key', 'text', (c) => c.notNull())
      .addColumn('day', dialect.types.date, (c) => c.notNull())
      .addColumn('timestamp', dialect.types.instant, (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull()),
    'account_events',
    ['workspace_id', 'account_key', 'day'],
    ['timestamp', 'seq'],
  );
  await table.execute();
  // The same entries: the index's cursor stays where it is.
  await sql`insert into account_events (workspace_id, account_key, day, timestamp, seq)
    select workspace_id, account_key, ${dialect.utcDay(sql.ref('timestamp'))}, timestamp, seq
    from account_events_by_time
    order by workspace_id, account_key, timestamp, seq`.execute(db);
  await db.schema.dropTable('account_events_by_time').execute();
  for (const index of indexes) await index.execute(db);
}
