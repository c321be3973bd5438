import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The account index leaves the events table for a table of its own, written in bulk by the
 * tracker (decision 0011): an index on the events cost every commit a page per account.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await dialect
    .keyOrderedTable(
      db.schema
        .createTable('account_events')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('account_key', 'text', (c) => c.notNull())
        .addColumn('timestamp', dialect.types.instant, (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('account_events_pk', [
          'workspace_id',
          'account_key',
          'timestamp',
          'seq',
        ]),
    )
    .execute();
  await sql`insert into account_events (workspace_id, account_key, timestamp, seq)
    select workspace_id, account_key, timestamp, seq from events
    where account_key is not null
    order by workspace_id, account_key, timestamp, seq`.execute(db);
  await db.schema.dropIndex('events_account_time').execute();
  // Every event stored so far is indexed: the index reaches the last one in commit order.
  const { rows } = await sql<{ txid: string; seq: number }>`
    select cast(txid as text) as txid, seq from events order by txid desc, seq desc limit 1`.execute(
    db,
  );
  await sql`insert into tracking_cursor (name, txid, seq, updated_at)
    values ('account_events', ${rows[0]?.txid ?? '0'}, ${rows[0]?.seq ?? 0}, ${new Date().toISOString()})`.execute(
    db,
  );
}
