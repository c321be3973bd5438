import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Product events (Segment's tracking API), who belongs to which account, each enrollment's
 * kept metrics, and how far the tracking has read.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  const { types } = dialect;
  // No foreign key to workspaces: it would cost a lookup on every event, and the workspace
  // comes from the write key that was just checked.
  await dialect
    .transactionIdColumn(dialect.serialPrimaryKey(db.schema.createTable('events'), 'seq'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('event', 'text')
    .addColumn('account_key', 'text')
    .addColumn('user_id', 'text')
    .addColumn('anonymous_id', 'text')
    .addColumn('timestamp', types.instant, (c) => c.notNull())
    .addColumn('received_at', types.instant, (c) => c.notNull())
    // Kept as the sender's JSON text: never queried inside, and jsonb would parse every event.
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('events_message')
    .on('events')
    .columns(['workspace_id', 'message_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('events_account_time')
    .on('events')
    .columns(['workspace_id', 'account_key', 'timestamp'])
    .execute();
  for (const statement of dialect.commitOrderIndex('events', 'seq')) await statement.execute(db);

  await db.schema
    .createTable('account_users')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('user_key', 'text', (c) => c.notNull())
    .addColumn('account_key', 'text', (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('account_users_pk', ['workspace_id', 'user_key'])
    .execute();

  await db.schema
    .createTable('enrollment_metrics')
    .addColumn('enrollment_id', 'text', (c) =>
      c.primaryKey().notNull().references('enrollments.id'),
    )
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('rebuild_requested_at', types.instant)
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('enrollment_metrics_rebuild')
    .on('enrollment_metrics')
    .column('rebuild_requested_at')
    .execute();

  await db.schema
    .createTable('tracking_cursor')
    .addColumn('name', 'text', (c) => c.primaryKey().notNull())
    .addColumn('txid', 'bigint', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .execute();
  await sql`insert into tracking_cursor (name, txid, seq, updated_at) values ('events', 0, 0, ${new Date(0).toISOString()})`.execute(
    db,
  );
}
