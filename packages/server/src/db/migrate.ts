import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { migrations as allMigrations, type WaymarkMigration } from './migrations/index.js';

export interface MigrationReport {
  applied: string[];
  pending: string[];
}

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    override readonly cause: unknown,
  ) {
    super(
      `migration ${migration ?? '(unknown)'} failed and was rolled back: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = 'MigrationError';
  }
}

function migrator(
  db: Kysely<unknown>,
  dialect: Dialect,
  migrations: Record<string, WaymarkMigration>,
) {
  return new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(migrations).map(([name, m]) => [
            name,
            { up: (d: Kysely<unknown>) => m.up(d, dialect) },
          ]),
        ),
    },
    migrationTableName: 'waymark_migrations',
    migrationLockTableName: 'waymark_migrations_lock',
  });
}

/**
 * Applies every pending migration in one transaction on both engines: a failure
 * leaves the schema exactly as it was.
 */
export async function migrateToLatest(
  { db, dialect }: Pick<Database, 'db' | 'dialect'>,
  migrations: Record<string, WaymarkMigration> = allMigrations,
): Promise<string[]> {
  const { error, results }: MigrationResultSet = await migrator(
    db as unknown as Kysely<unknown>,
    dialect,
    migrations,
  ).migrateToLatest();
  if (error) {
    throw new MigrationError(results?.find((r) => r.status === 'Error')?.migrationName, error);
  }
  return (results ?? []).map((r) => r.migrationName);
}

export async function migrationStatus(
  { db, dialect }: Pick<Database, 'db' | 'dialect'>,
  migrations: Record<string, WaymarkMigration> = allMigrations,
): Promise<MigrationReport> {
  const all = await migrator(db as unknown as Kysely<unknown>, dialect, migrations).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt).map((m) => m.name),
    pending: all.filter((m) => !m.executedAt).map((m) => m.name),
  };
}
