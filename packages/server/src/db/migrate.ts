import { type Kysely, Migrator } from 'kysely';
import type { Database } from './database.js';
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
      `migration ${migration ?? '(set-up)'} failed and was rolled back: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = 'MigrationError';
  }
}

/**
 * The migration tables live in the connection's own schema: Kysely would otherwise
 * look for them in every schema of the database and may find another's.
 */
async function migrator(
  { db, dialect }: Pick<Database, 'db' | 'dialect'>,
  migrations: Record<string, WaymarkMigration>,
): Promise<Migrator> {
  const anyDb = db as unknown as Kysely<unknown>;
  const schema = await dialect.currentSchema(anyDb);
  return new Migrator({
    db: anyDb,
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
    ...(schema !== undefined && { migrationTableSchema: schema }),
  });
}

/**
 * Applies every pending migration in one transaction on both engines: a failure
 * leaves the schema exactly as it was.
 */
export async function migrateToLatest(
  database: Pick<Database, 'db' | 'dialect'>,
  migrations: Record<string, WaymarkMigration> = allMigrations,
): Promise<string[]> {
  const { error, results } = await (await migrator(database, migrations)).migrateToLatest();
  if (error) {
    throw new MigrationError(results?.find((r) => r.status === 'Error')?.migrationName, error);
  }
  return (results ?? []).map((r) => r.migrationName);
}

export async function migrationStatus(
  database: Pick<Database, 'db' | 'dialect'>,
  migrations: Record<string, WaymarkMigration> = allMigrations,
): Promise<MigrationReport> {
  const all = await (await migrator(database, migrations)).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt).map((m) => m.name),
    pending: all.filter((m) => !m.executedAt).map((m) => m.name),
  };
}
