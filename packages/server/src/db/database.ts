import { type CompiledQuery, Kysely, type QueryResult } from 'kysely';
import { type Config, sqliteFile } from '../config/config.js';
import { type Dialect, postgresDialect, sqliteDialect } from './dialect.js';
import { createPostgresDialect, createPostgresPool, redactConnectionString } from './postgres.js';
import type { DB } from './schema.js';
import { openSqliteFile, SqliteWriteTurns, WaymarkSqliteDialect } from './sqlite.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { startSqliteWriter } from './sqlite-writer.js';

const WAL_AUTOCHECKPOINT_PAGES = 16_000;

export type Db = Kysely<DB>;

export interface Database {
  readonly db: Db;
  /**
   * Runs the statements in order in one transaction and returns their results: on a SQLite
   * file in a thread of its own, so that the HTTP thread goes on meanwhile (decision 0010);
   * elsewhere through `db`. For the hottest writes, the events' inserts.
   */
  readonly runTransaction: (queries: readonly CompiledQuery[]) => Promise<QueryResult<unknown>[]>;
  readonly dialect: Dialect;
  /** Where the data lives, safe to print (no password). */
  readonly location: string;
  close(): Promise<void>;
}

/** PostgreSQL when `DATABASE_URL` is set, otherwise the embedded SQLite file. */
export function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'WAYMARK_DATA_DIR'>): Database {
  if (config.DATABASE_URL) {
    const pool = createPostgresPool(config.DATABASE_URL);
    const db = new Kysely<DB>({ dialect: createPostgresDialect(pool) });
    return {
      db,
      runTransaction: transactionThrough(db),
      dialect: postgresDialect,
      location: redactConnectionString(config.DATABASE_URL),
      close: () => db.destroy(),
    };
  }
  const file = sqliteFile(config);
  const connection = openSqliteFile(file);
  const turns = new SqliteWriteTurns();
  const db = new Kysely<DB>({ dialect: new WaymarkSqliteDialect(connection, turns) });
  if (file === ':memory:') {
    return {
      db,
      runTransaction: transactionThrough(db),
      dialect: sqliteDialect,
      location: file,
      close: () => db.destroy(),
    };
  }
  // The checkpointer keeps the log short; commits checkpoint only if it falls far behind.
  connection.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(file);
  const writer = startSqliteWriter(file, { autocheckpoint: WAL_AUTOCHECKPOINT_PAGES, turns });
  return {
    db,
    runTransaction: writer.transaction,
    dialect: sqliteDialect,
    location: file,
    close: async () => {
      await writer.close();
      await checkpointer.stop();
      await db.destroy();
    },
  };
}

function transactionThrough(db: Db): Database['runTransaction'] {
  return (queries) =>
    db.transaction().execute(async (trx) => {
      const results: QueryResult<unknown>[] = [];
      for (const query of queries) results.push(await trx.executeQuery(query));
      return results;
    });
}
