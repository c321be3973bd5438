import { Kysely } from 'kysely';
import { type Config, sqliteFile } from '../config/config.js';
import { type Dialect, postgresDialect, sqliteDialect } from './dialect.js';
import { createPostgresDialect, createPostgresPool, redactConnectionString } from './postgres.js';
import type { DB } from './schema.js';
import { openSqliteFile, WaymarkSqliteDialect } from './sqlite.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { WriteLock } from './write-lock.js';

export type Db = Kysely<DB>;

export interface Database {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Where the data lives, safe to print (no password). */
  readonly location: string;
  /** An SQLite file, which other threads of this process may open, taking `writeLock` to write. */
  readonly sqlite?: { file: string; writeLock: WriteLock };
  close(): Promise<void>;
}

/** PostgreSQL when `DATABASE_URL` is set, otherwise the embedded SQLite file. */
export function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'WAYMARK_DATA_DIR'>): Database {
  if (config.DATABASE_URL) {
    const pool = createPostgresPool(config.DATABASE_URL);
    const db = new Kysely<DB>({ dialect: createPostgresDialect(pool) });
    return {
      db,
      dialect: postgresDialect,
      location: redactConnectionString(config.DATABASE_URL),
      close: () => db.destroy(),
    };
  }
  const file = sqliteFile(config);
  const connection = openSqliteFile(file);
  if (file === ':memory:') {
    const db = new Kysely<DB>({ dialect: new WaymarkSqliteDialect(connection) });
    return { db, dialect: sqliteDialect, location: file, close: () => db.destroy() };
  }
  const writeLock = new WriteLock();
  const db = new Kysely<DB>({ dialect: new WaymarkSqliteDialect(connection, writeLock) });
  const checkpointer = startCheckpointer(file);
  return {
    db,
    dialect: sqliteDialect,
    location: file,
    sqlite: { file, writeLock },
    close: async () => {
      await checkpointer.stop();
      await db.destroy();
    },
  };
}
