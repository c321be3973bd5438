import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/** Sign-in, sessions, invitations, first-start set-up, API keys and login lockout. */
export async function up(db: Kysely<unknown>, { types }: Dialect) {
  await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('last_login_at', types.instant).execute();
  // One person, one workspace: an email signs in to exactly one place (docs/decisions/0002).
  await db.schema.createIndex('users_email').on('users').column('email').unique().execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('expires_at', types.instant, (c) => c.notNull())
    .addColumn('last_seen_at', types.instant, (c) => c.notNull())
    .addColumn('revoked_at', types.instant)
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('invitations')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('manager_id', 'text', (c) => c.references('users.id'))
    .addColumn('invited_by', 'text', (c) => c.notNull())
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('expires_at', types.instant, (c) => c.notNull())
    .addColumn('accepted_at', types.instant)
    .addColumn('revoked_at', types.instant)
    .execute();

  await db.schema
    .createTable('setup_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey().notNull())
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('expires_at', types.instant, (c) => c.notNull())
    .addColumn('used_at', types.instant)
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', types.instant, (c) => c.notNull())
    .addColumn('last_used_at', types.instant)
    .addColumn('revoked_at', types.instant)
    .execute();
  await db.schema.createIndex('api_keys_workspace').on('api_keys').column('workspace_id').execute();

  await db.schema
    .createTable('login_failures')
    .addColumn('email', 'text', (c) => c.primaryKey().notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('first_failure_at', types.instant, (c) => c.notNull())
    .addColumn('locked_until', types.instant)
    .execute();
}
