import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery, QueryResult } from 'kysely';
import {
  CACHED_STATEMENTS,
  type ClosableConnection,
  SQLITE_PRAGMAS,
  sqliteDriver,
} from './sqlite.js';

const require = createRequire(import.meta.url);

// Plain CommonJS, run from a string: the same in the built server and under the test runner.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
for (const pragma of workerData.pragmas) db.pragma(pragma);
db.pragma('wal_autocheckpoint = ' + workerData.autocheckpoint);
// Prepared statements by their SQL, the most recently used last (the batch inserts are long).
const statements = new Map();
const prepare = (sql) => {
  let statement = statements.get(sql);
  if (statement !== undefined) statements.delete(sql);
  else statement = db.prepare(sql);
  statements.set(sql, statement);
  if (statements.size > workerData.cachedStatements) statements.delete(statements.keys().next().value);
  return statement;
};
parentPort.on('message', ({ id, sql, parameters }) => {
  if (id === 'close') {
    db.close();
    parentPort.postMessage({ id });
    return;
  }
  try {
    const statement = prepare(sql);
    if (statement.reader) {
      parentPort.postMessage({ id, rows: statement.all(parameters) });
    } else {
      const { changes, lastInsertRowid } = statement.run(parameters);
      parentPort.postMessage({ id, changes, lastInsertRowid: Number(lastInsertRowid) });
    }
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error.name, message: error.message, code: error.code } });
  }
});
`;

type Reply =
  | { id: number; rows: unknown[] }
  | { id: number; changes: number; lastInsertRowid: number }
  | { id: number; error: { name: string; message: string; code?: string } }
  | { id: 'close' };

/**
 * A connection to the SQLite file that runs its statements in a thread of its own, so that
 * what goes through it (the events' inserts and the tracking, decision 0010) takes the second
 * core instead of stalling the HTTP thread. The thread starts with the first statement, and
 * keeps the process alive only while a statement is running.
 */
export function startSqliteWriter(
  file: string,
  options: { autocheckpoint: number },
): ClosableConnection {
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>();
  let closed: (() => void) | null = null;

  function start(): Worker {
    const started = new Worker(WORKER, {
      eval: true,
      workerData: {
        file,
        pragmas: SQLITE_PRAGMAS,
        driver: require.resolve(sqliteDriver().package),
        autocheckpoint: options.autocheckpoint,
        cachedStatements: CACHED_STATEMENTS,
      },
    });
    started.unref();
    started.on('message', (reply: Reply) => {
      if (reply.id === 'close') return closed?.();
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) started.unref();
      waiting?.resolve(reply);
    });
    started.on('error', (error) => fail(error));
    started.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (${code})`)));
    return started;
  }

  function fail(error: Error): void {
    worker = null;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
    closed?.();
  }

  function run(sql: string, parameters: readonly unknown[]): Promise<Reply> {
    worker ??= start();
    const id = nextId++;
    worker.ref();
    worker.postMessage({ id, sql, parameters });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const reply = await run(query.sql, query.parameters);
      if ('error' in reply) {
        throw Object.assign(new Error(reply.error.message), {
          name: reply.error.name,
          code: reply.error.code,
        });
      }
      if ('rows' in reply) return { rows: reply.rows as R[] };
      if ('changes' in reply) {
        return {
          numAffectedRows: BigInt(reply.changes),
          insertId: BigInt(reply.lastInsertRowid),
          rows: [],
        };
      }
      throw new Error('unexpected reply from the SQLite writer thread');
    },
    async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
      const result = await this.executeQuery<R>(query);
      for (const row of result.rows) yield { rows: [row] };
    },
    async close(): Promise<void> {
      const stopping = worker;
      if (stopping === null) return;
      await new Promise<void>((resolve) => {
        closed = resolve;
        stopping.ref();
        stopping.postMessage({ id: 'close' });
      });
      worker = null;
      await stopping.terminate();
    },
  };
}
