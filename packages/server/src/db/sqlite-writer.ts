import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CompiledQuery, QueryResult } from 'kysely';
import {
  CACHED_STATEMENTS,
  SQLITE_PRAGMAS,
  type SqliteWriteTurns,
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
const run = ({ sql, parameters }) => {
  const statement = prepare(sql);
  if (statement.reader) return { rows: statement.all(parameters) };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { rows: [], changes, lastInsertRowid: Number(lastInsertRowid) };
};
const transaction = db.transaction((queries) => queries.map(run));
parentPort.on('message', ({ id, queries }) => {
  if (id === 'close') {
    db.close();
    parentPort.postMessage({ id });
    return;
  }
  try {
    parentPort.postMessage({ id, results: transaction.immediate(queries) });
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error.name, message: error.message, code: error.code } });
  }
});
`;

interface Result {
  rows: unknown[];
  changes?: number;
  lastInsertRowid?: number;
}

type Reply =
  | { id: number; results: Result[] }
  | { id: number; error: { name: string; message: string; code?: string } }
  | { id: 'close' };

export interface SqliteWriter {
  /** Runs the statements in order in one transaction, in the writer's thread. */
  transaction(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
  close(): Promise<void>;
}

/**
 * A connection to the SQLite file in a thread of its own, which runs a whole transaction from
 * one message, so that the events' inserts take the second core instead of stalling the HTTP
 * thread (decision 0010). It takes its turns at writing with the file's other connections.
 * The thread starts with the first transaction and keeps the process alive only while one runs.
 */
export function startSqliteWriter(
  file: string,
  options: { autocheckpoint: number; turns: SqliteWriteTurns },
): SqliteWriter {
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

  async function send(queries: readonly CompiledQuery[]): Promise<Reply> {
    worker ??= start();
    const id = nextId++;
    worker.ref();
    worker.postMessage({
      id,
      queries: queries.map(({ sql, parameters }) => ({ sql, parameters })),
    });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  return {
    async transaction(queries) {
      const endTurn = await options.turns.take();
      let reply: Reply;
      try {
        reply = await send(queries);
      } finally {
        endTurn();
      }
      if ('error' in reply) {
        throw Object.assign(new Error(reply.error.message), {
          name: reply.error.name,
          code: reply.error.code,
        });
      }
      if (!('results' in reply)) throw new Error('unexpected reply from the SQLite writer');
      return reply.results.map(({ rows, changes, lastInsertRowid }) => ({
        rows,
        ...(changes !== undefined && { numAffectedRows: BigInt(changes) }),
        ...(lastInsertRowid !== undefined && { insertId: BigInt(lastInsertRowid) }),
      }));
    },
    async close() {
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
