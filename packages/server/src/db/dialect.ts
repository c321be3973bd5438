import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, sql } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/**
 * Where the two engines differ, and nowhere else. Migrations and repositories ask
 * this seam for a column type or a capability instead of testing the engine name.
 */
export interface Dialect {
  readonly engine: Engine;
  readonly types: {
    /** An instant, written and read as ISO-8601 UTC text. */
    readonly instant: 'text' | 'timestamptz';
    /** A calendar date, `YYYY-MM-DD`. */
    readonly date: 'text' | 'date';
    readonly json: 'text' | 'jsonb';
    readonly flag: 'integer' | 'boolean';
  };
  readonly capabilities: {
    /** Several processes may claim background work concurrently (`FOR UPDATE SKIP LOCKED`). */
    readonly concurrentWorkers: boolean;
  };
  /** Adds an auto-incrementing integer primary key column named `id`. */
  serialPrimaryKey<T extends string, C extends string>(
    table: CreateTableBuilder<T, C>,
  ): CreateTableBuilder<T, C | 'id'>;
  /** SQL that makes a table refuse UPDATE and DELETE. */
  appendOnlyGuard(table: string): ReturnType<typeof sql.raw>[];
  /** The schema new tables land in (PostgreSQL's search path); none on SQLite. */
  currentSchema(db: Kysely<unknown>): Promise<string | undefined>;
}

export const sqliteDialect: Dialect = {
  engine: 'sqlite',
  types: { instant: 'text', date: 'text', json: 'text', flag: 'integer' },
  capabilities: { concurrentWorkers: false },
  serialPrimaryKey: (table) =>
    table.addColumn('id', 'integer', (col: ColumnDefinitionBuilder) =>
      col.primaryKey().autoIncrement().notNull(),
    ),
  appendOnlyGuard: (table) =>
    (['update', 'delete'] as const).map((op) =>
      sql.raw(
        `create trigger ${table}_no_${op} before ${op} on ${table} ` +
          `begin select raise(abort, '${table} is append-only'); end`,
      ),
    ),
  currentSchema: async () => undefined,
};

export const postgresDialect: Dialect = {
  engine: 'postgres',
  types: { instant: 'timestamptz', date: 'date', json: 'jsonb', flag: 'boolean' },
  capabilities: { concurrentWorkers: true },
  serialPrimaryKey: (table) =>
    table.addColumn('id', 'bigint', (col: ColumnDefinitionBuilder) =>
      col.primaryKey().generatedAlwaysAsIdentity(),
    ),
  appendOnlyGuard: (table) => [
    sql.raw(
      `create or replace function ${table}_append_only() returns trigger language plpgsql as $$ ` +
        `begin raise exception '${table} is append-only'; end $$`,
    ),
    sql.raw(
      `create trigger ${table}_append_only before update or delete on ${table} ` +
        `for each statement execute function ${table}_append_only()`,
    ),
  ],
  currentSchema: async (db) =>
    (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema,
};
