import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Workspaces, people, accounts, programs, enrollments, milestone progress and the audit trail. */
export async function up(
  db: Kysely<unknown>,
  { types, serialPrimaryKey, appendOnlyGuard }: Dialect,
) {
  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('settings', types.json, (c) => c.notNull())
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('manager_id', 'text', (c) => c.references('users.id'))
    .addColumn('active', types.flag, (c) => c.notNull())
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addUniqueConstraint('users_workspace_email', ['workspace_id', 'email'])
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('segment', 'text')
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id'))
    .addColumn('time_zone', 'text')
    .addColumn('traits', types.json, (c) => c.notNull())
    .addColumn('outcome', types.json)
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addUniqueConstraint('accounts_workspace_external_id', ['workspace_id', 'external_id'])
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addUniqueConstraint('contacts_account_email', ['account_id', 'email'])
    .execute();

  await db.schema
    .createTable('programs')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addUniqueConstraint('programs_workspace_key', ['workspace_id', 'key'])
    .execute();

  await db.schema
    .createTable('program_versions')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('draft', 'published')`))
    .addColumn('definition', types.json, (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('published_at', types.instant)
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addUniqueConstraint('program_versions_program_version', ['program_id', 'version'])
    .execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('program_version_id', 'text', (c) => c.notNull().references('program_versions.id'))
    .addColumn('started_at', types.instant, (c) => c.notNull())
    .addColumn('go_live_date', types.date)
    .addColumn('owner_user_id', 'text', (c) => c.references('users.id'))
    .addColumn('variant', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('active', 'completed', 'cancelled')`),
    )
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('enrollments_workspace_account')
    .on('enrollments')
    .columns(['workspace_id', 'account_id'])
    .execute();

  await db.schema
    .createTable('milestone_progress')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('enrollment_id', 'text', (c) => c.notNull().references('enrollments.id'))
    .addColumn('milestone_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('locked', 'open', 'completed', 'waived')`),
    )
    .addColumn('opened_at', types.instant)
    .addColumn('completed_at', types.instant)
    .addColumn('completion_source', 'text', (c) =>
      c.check(sql`completion_source in ('automatic', 'csm', 'client')`),
    )
    .addColumn('evidence', types.json)
    .addColumn('verified_by_type', 'text')
    .addColumn('verified_by_id', 'text')
    .addColumn('waived_at', types.instant)
    .addColumn('waived_by_type', 'text')
    .addColumn('waived_by_id', 'text')
    .addColumn('waiver_reason', 'text')
    .addColumn('updated_at', types.instant, (c) => c.notNull())
    .addPrimaryKeyConstraint('milestone_progress_pk', ['enrollment_id', 'milestone_key'])
    .execute();
  await db.schema
    .createIndex('milestone_progress_workspace_status')
    .on('milestone_progress')
    .columns(['workspace_id', 'status'])
    .execute();

  await serialPrimaryKey(db.schema.createTable('audit_events'))
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('occurred_at', types.instant, (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('before', types.json)
    .addColumn('after', types.json)
    .addColumn('context', types.json)
    .execute();
  await db.schema
    .createIndex('audit_events_workspace_entity')
    .on('audit_events')
    .columns(['workspace_id', 'entity_type', 'entity_id', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_workspace_time')
    .on('audit_events')
    .columns(['workspace_id', 'occurred_at'])
    .execute();
  for (const statement of appendOnlyGuard('audit_events')) await statement.execute(db);
}
