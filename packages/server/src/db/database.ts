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
  /** A PostgreSQL database, which other threads of this process may open with a pool of their own. */
  readonly postgres?: { url: string };
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
      postgres: { url: config.DATABASE_URL },
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
  const checkpointer = startCheckpointer(file, writeLock);
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

/** What a thread of this process needs to open the same database; a structured clone copies it. */
export type ThreadDatabase = { file: string; writeLock: SharedArrayBuffer } | { url: string };

/** How another thread opens `database`: undefined for an SQLite database in memory. */
export function threadDatabaseOf({
  sqlite,
  postgres,
}: Pick<Database, 'sqlite' | 'postgres'>): ThreadDatabase | undefined {
  if (sqlite !== undefined) return { file: sqlite.file, writeLock: sqlite.writeLock.buffer };
  return postgres;
}

/** Opens on a thread the database another opened (`threadDatabaseOf`). */
export function openOnThread(database: ThreadDatabase): Pick<Database, 'db' | 'dialect' | 'close'> {
  const db =
    'url' in database
      ? new Kysely<DB>({ dialect: createPostgresDialect(createPostgresPool(database.url)) })
      : new Kysely<DB>({
          dialect: new WaymarkSqliteDialect(
            openSqliteFile(database.file),
            new WriteLock(database.writeLock),
          ),
        });
  return {
    db,
    dialect: 'url' in database ? postgresDialect : sqliteDialect,
    close: () => db.destroy(),
  };
}
