import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';
import type { WriteLock } from './write-lock.js';

const require = createRequire(import.meta.url);

/**
 * better-sqlite3 12 wraps its objects in Node's ObjectWrap, which on Node 24 aborts
 * the process when a collected statement is finalized; 13 is built on Node-API 10,
 * which Node 20 lacks (it segfaults there). Both are installed; each Node gets the
 * one that works on it (docs/decisions/0003-sqlite-driver-per-node-version.md).
 */
export function sqliteDriver(nodeVersion: string = process.versions.node): {
  Database: typeof SQLite;
  package: 'better-sqlite3' | 'better-sqlite3-napi';
} {
  const major = Number(nodeVersion.split('.')[0]);
  const name = major >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';
  return { Database: require(name) as typeof SQLite, package: name };
}

/** The page cache of each connection, in KiB. */
export const CACHE_KIB = 32_768;

/** Opens the SQLite file with the settings Waymark relies on, in one place. */
export function openSqliteFile(file: string): SQLite.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new (sqliteDriver().Database)(file);
  // Before the file has its first page (a file made earlier keeps its size): each page a commit
  // writes to the log costs two system calls, and events fill pages in sequence, so larger
  // pages cost fewer calls for the same rows (decision 0017: +12% events/s with 16 KB).
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode keeps every committed transaction across a process crash;
  // only a power loss can take the last commits back.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // A statement that writes many rows keeps the pages it changes in a journal of its own, to
  // take them back if it fails; past 64 KB (four 16 KB pages) SQLite moves it to a temporary
  // file, written with a system call a page. In memory it cost the tracking thread 5% less.
  db.pragma('temp_store = MEMORY');
  // SQLite's default cache, 2 MB, holds 125 of these pages: fewer than the writing thread's
  // commits and the tracking touch again and again (the indexes' upper pages, the metrics),
  // which it then read back from the file. 32 MB: 5–24% less CPU an event on that thread, in
  // four pairs of five (decision 0018).
  db.pragma(`cache_size = -${CACHE_KIB}`);
  db.pragma('busy_timeout = 5000');
  // The checkpointer keeps the log short (`startCheckpointer`); commits checkpoint only if it
  // falls far behind, on every connection that writes.
  if (file !== ':memory:') db.pragma('wal_autocheckpoint = 16000');
  return db;
}

/** How long a query waits for SQLite's one connection before it is called stuck. */
const CONNECTION_WAIT_MS = 15_000;

export class SqliteConnectionWaitError extends Error {
  constructor() {
    super(
      `waited ${CONNECTION_WAIT_MS / 1000} s for the SQLite connection: is \`db\` used inside a ` +
        'transaction instead of its `trx`? (that waits on itself forever)',
    );
    this.name = 'SqliteConnectionWaitError';
  }
}

const CACHED_STATEMENTS = 200;

/**
 * Kysely's SQLite connection prepares every query anew; preparing costs as much as running a
 * small statement (and far more for a batch insert of hundreds of parameters). This one keeps
 * the most recently used prepared statements by their SQL text.
 */
class CachedStatementsConnection implements DatabaseConnection {
  readonly #statements = new Map<string, SQLite.Statement>();
  /** Writes kept instead of run, while `deferWrites` is on. */
  #deferred: CompiledQuery[] | null = null;
  constructor(
    private readonly database: SQLite.Database,
    private readonly writeLock: WriteLock | null,
  ) {}

  #prepare(sql: string): SQLite.Statement {
    const known = this.#statements.get(sql);
    if (known !== undefined) {
      this.#statements.delete(sql);
      this.#statements.set(sql, known);
      return known;
    }
    const statement = this.database.prepare(sql);
    this.#statements.set(sql, statement);
    if (this.#statements.size > CACHED_STATEMENTS) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    return statement;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (!statement.readonly && this.#deferred !== null) {
      if (statement.reader) throw new Error('a write that returns rows cannot be deferred');
      this.#deferred.push(compiledQuery);
      return { numAffectedRows: 0n, rows: [] };
    }
    // A write outside a transaction takes the process's write lock for itself.
    const lock = !statement.readonly && !this.database.inTransaction ? this.writeLock : null;
    await lock?.acquire();
    try {
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } finally {
      lock?.release();
    }
  }

  /**
   * Runs an insert once for each row of parameters, as `executeQuery` would each; returns the
   * rowid each row got, or null where the insert skipped it.
   */
  insertEach(sql: string, rows: readonly unknown[][]): (number | null)[] {
    if (this.#deferred !== null) throw new Error('the writes of insertEachRow are never deferred');
    const statement = this.#prepare(sql);
    const rowids: (number | null)[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const { changes, lastInsertRowid } = statement.run(rows[i]);
      rowids[i] = changes > 0 ? Number(lastInsertRowid) : null;
    }
    return rowids;
  }

  /**
   * Takes the write lock up front (the process's, then SQLite's), so that a transaction never
   * fails half-way on SQLITE_BUSY.
   */
  async begin(): Promise<void> {
    await this.writeLock?.acquire();
    try {
      this.#prepare('begin immediate').run();
    } catch (error) {
      this.writeLock?.release();
      throw error;
    }
  }

  end(how: 'commit' | 'rollback'): void {
    try {
      this.#prepare(how).run();
    } finally {
      this.writeLock?.release();
    }
  }

  deferWrites(): void {
    this.#deferred = [];
  }

  /** The writes kept since `deferWrites`, in order; writes run again from now on. */
  takeDeferred(): CompiledQuery[] {
    const deferred = this.#deferred ?? [];
    this.#deferred = null;
    return deferred;
  }

  // Streams keep their statement busy while iterated: they get their own.
  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const statement = this.database.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) {
      yield { rows: [row as R] };
    }
  }
}

/**
 * Runs an insert once per row of parameters on SQLite's connection (inside `db`'s transaction,
 * when `db` is one), returning each row's new rowid, or null where it was skipped (`on conflict
 * do nothing`). A single-row insert run for each row measured twice as fast as one insert of 90
 * rows, whose `values` SQLite materializes first.
 */
export function insertEachRow(
  db: Kysely<unknown>,
  sql: string,
  rows: readonly unknown[][],
): Promise<(number | null)[]> {
  return db.getExecutor().provideConnection(async (connection) => {
    if (!(connection instanceof CachedStatementsConnection)) {
      throw new Error('insertEachRow needs the SQLite connection');
    }
    return connection.insertEach(sql, rows);
  });
}

/**
 * Runs `work` on SQLite's connection with its writes kept instead of run: it reads what is
 * committed and takes no lock, and its writes come back, in order, to be run later in a
 * transaction of their own. Writes that return rows, and `insertEachRow`, are refused meanwhile.
 */
export function withDeferredWrites<DB, T>(
  db: Kysely<DB>,
  work: (connection: Kysely<DB>) => Promise<T>,
): Promise<{ result: T; writes: CompiledQuery[] }> {
  return db.connection().execute(async (connection) => {
    const raw = await connection.getExecutor().provideConnection(async (c) => c);
    if (!(raw instanceof CachedStatementsConnection)) {
      throw new Error('withDeferredWrites needs the SQLite connection');
    }
    raw.deferWrites();
    try {
      const result = await work(connection);
      return { result, writes: raw.takeDeferred() };
    } finally {
      raw.takeDeferred();
    }
  });
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #connection: CachedStatementsConnection;
  constructor(database: SQLite.Database, writeLock: WriteLock | null) {
    super({ database });
    this.#connection = new CachedStatementsConnection(database, writeLock);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as CachedStatementsConnection).begin();
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as CachedStatementsConnection).end('commit');
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as CachedStatementsConnection).end('rollback');
  }

  /** Whether the connection is taken; those waiting for it, in order. */
  #taken = false;
  readonly #waiting: (() => void)[] = [];

  /**
   * SQLite has one connection, taken by one query or transaction at a time. A query through `db`
   * inside a transaction would wait for it forever; this turns that into an error (which rolls
   * the transaction back) instead of a silent hang. A free connection is taken at once, with no
   * timer: most queries find it free.
   */
  override async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#taken) {
      await new Promise<void>((resolve, reject) => {
        const handOver = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(handOver), 1);
          reject(new SqliteConnectionWaitError());
        }, CONNECTION_WAIT_MS);
        this.#waiting.push(handOver);
      });
    }
    this.#taken = true;
    return this.#connection;
  }

  /** Hands the connection to the next waiting, if any. */
  override async releaseConnection(): Promise<void> {
    const next = this.#waiting.shift();
    if (next === undefined) this.#taken = false;
    else next();
  }
}

/** SQLite runs DDL inside transactions; saying so makes a failed migration batch roll back whole. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class WaymarkSqliteDialect extends SqliteDialect {
  /** `writeLock`: shared by the threads of this process that write the same file. */
  constructor(
    private readonly database: SQLite.Database,
    private readonly writeLock: WriteLock | null = null,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.database, this.writeLock);
  }
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
