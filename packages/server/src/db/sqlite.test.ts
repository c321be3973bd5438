import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  CACHE_KIB,
  openSqliteFile,
  SqliteConnectionWaitError,
  sqliteDriver,
  WaymarkSqliteDialect,
  withDeferredWrites,
} from './sqlite.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { WriteLock } from './write-lock.js';

describe('the SQLite driver', () => {
  it('is better-sqlite3 12 on Node 20 and the Node-API build (13) from Node 22 on', () => {
    expect(sqliteDriver('20.20.2').package).toBe('better-sqlite3');
    expect(sqliteDriver('22.14.0').package).toBe('better-sqlite3-napi');
    expect(sqliteDriver('24.21.0').package).toBe('better-sqlite3-napi');
  });

  it('survives many collected statements on this Node (Node 24 aborted with 12.x)', () => {
    const db = openSqliteFile(':memory:');
    db.exec('create table t (x integer)');
    for (let i = 0; i < 5000; i++) db.prepare('insert into t values (?)').run(i);
    (globalThis as { gc?: () => void }).gc?.();
    expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 5000 });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});

describe('SQLite as Waymark runs it', () => {
  const dirs: string[] = [];
  const fileIn = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-sqlite-'));
    dirs.push(dir);
    return path.join(dir, 'waymark.db');
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('makes new files with 16 KB pages, and leaves an older file’s pages as they are', () => {
    const fresh = openSqliteFile(fileIn());
    fresh.exec('create table t (x integer)');
    expect(fresh.pragma('page_size', { simple: true })).toBe(16_384);
    // Statement journals in memory, never in a temporary file (2 = MEMORY).
    expect(fresh.pragma('temp_store', { simple: true })).toBe(2);
    // A page cache of 32 MB (negative: KiB, not pages).
    expect(fresh.pragma('cache_size', { simple: true })).toBe(-CACHE_KIB);
    fresh.close();

    const older = fileIn();
    const made = new (sqliteDriver().Database)(older);
    made.exec('create table t (x integer); insert into t values (1)');
    made.close();
    const reopened = openSqliteFile(older);
    expect(reopened.pragma('page_size', { simple: true })).toBe(4096);
    expect(reopened.prepare('select x from t').get()).toEqual({ x: 1 });
    reopened.close();
  });

  it('copies the write-ahead log into the database file from a worker thread, and the next commit starts the log again', async () => {
    const file = fileIn();
    const db = openSqliteFile(file);
    db.pragma('wal_autocheckpoint = 0'); // commits leave every page in the log
    db.exec('create table t (x integer)');
    for (let i = 0; i < 100; i++) db.prepare('insert into t values (?)').run(i);
    // A commit after the log was started again writes at its top: the file grows no more.
    const logBytes = () => fs.statSync(`${file}-wal`).size;
    const writeLock = new WriteLock();
    const checkpointer = startCheckpointer(file, writeLock, 60_000);
    try {
      // Its last pass takes the process's write lock: it waits for a writer holding it.
      await writeLock.acquire();
      const checkpointed = checkpointer.checkpoint();
      db.prepare('insert into t values (?)').run(100);
      writeLock.release();
      expect(await checkpointed).toBeGreaterThan(100);
      const before = logBytes();
      db.prepare('insert into t values (?)').run(101);
      expect(logBytes()).toBe(before);
      // The log holds that commit alone.
      const [log] = db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      expect(log?.log).toBeLessThan(5);
      expect(db.prepare('select count(*) as n from t').get()).toEqual({ n: 102 });
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('prepares a query once however often it runs', async () => {
    const connection = openSqliteFile(fileIn());
    const prepare = vi.spyOn(connection, 'prepare');
    const db = new Kysely<{ t: { x: number } }>({ dialect: new WaymarkSqliteDialect(connection) });
    try {
      await sql`create table t (x integer)`.execute(db);
      for (let i = 0; i < 50; i++) await db.insertInto('t').values({ x: i }).execute();
      const inserts = prepare.mock.calls.filter(([text]) => text.startsWith('insert'));
      expect(inserts).toHaveLength(1);
      expect(
        await db
          .selectFrom('t')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirst(),
      ).toEqual({
        n: 50,
      });
    } finally {
      await db.destroy();
    }
  });

  type T = { t: { x: number } };
  /** `work` on a Kysely over a new file holding table `t`, as Waymark's driver runs it. */
  const onNewFile = async (work: (db: Kysely<T>) => Promise<void>) => {
    const db = new Kysely<T>({ dialect: new WaymarkSqliteDialect(openSqliteFile(fileIn())) });
    try {
      await sql`create table t (x integer)`.execute(db);
      await work(db);
    } finally {
      vi.useRealTimers();
      await db.destroy();
    }
  };

  it('hands its one connection to queries in the order they asked for it', () =>
    onNewFile(async (db) => {
      const order: number[] = [];
      // Each transaction holds the connection across turns of the event loop.
      await Promise.all(
        [1, 2, 3].map((x) =>
          db.transaction().execute(async (trx) => {
            await new Promise((resolve) => setImmediate(resolve));
            await trx.insertInto('t').values({ x }).execute();
            order.push(x);
          }),
        ),
      );
      expect(order).toEqual([1, 2, 3]);
      expect(await db.selectFrom('t').select('x').orderBy('x').execute()).toHaveLength(3);
    }));

  it('fails a query that waits for the connection its own transaction holds, not hangs', () =>
    onNewFile(async (db) => {
      vi.useFakeTimers();
      const stuck = db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ x: 1 }).execute();
        await db.insertInto('t').values({ x: 2 }).execute(); // `db`, not `trx`: waits on itself
      });
      const failed = expect(stuck).rejects.toThrow(SqliteConnectionWaitError);
      await vi.advanceTimersByTimeAsync(15_000);
      await failed;
      vi.useRealTimers();
      // Rolled back, and the connection is free again.
      expect(await db.selectFrom('t').select('x').execute()).toEqual([]);
    }));

  /** Two connections to one file, as the main thread and the tracking thread hold them. */
  const twoConnections = async () => {
    const file = fileIn();
    const lock = new WriteLock();
    const open = () =>
      new Kysely<T>({
        dialect: new WaymarkSqliteDialect(openSqliteFile(file), new WriteLock(lock.buffer)),
      });
    const [first, second] = [open(), open()];
    await sql`create table t (x integer)`.execute(first);
    return { first, second, close: () => Promise.all([first.destroy(), second.destroy()]) };
  };

  it('has connections of one process take turns at writing through the write lock', async () => {
    const { first, second, close } = await twoConnections();
    try {
      const order: string[] = [];
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const firstWrites = first.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ x: 1 }).execute();
        order.push('first wrote');
        await held;
        order.push('first commits');
      });
      while (order.length === 0) await new Promise((resolve) => setImmediate(resolve));
      expect(await second.selectFrom('t').selectAll().execute()).toEqual([]); // no turn needed
      order.push('second read');
      // SQLite's own lock would fail this at once (or sleep the thread): it waits its turn.
      const secondWrites = second
        .insertInto('t')
        .values({ x: 2 })
        .execute()
        .then(() => order.push('second wrote'));
      await new Promise((resolve) => setImmediate(resolve));
      release();
      await Promise.all([firstWrites, secondWrites]);
      expect(order).toEqual(['first wrote', 'second read', 'first commits', 'second wrote']);
      expect(await first.selectFrom('t').select('x').orderBy('x').execute()).toEqual([
        { x: 1 },
        { x: 2 },
      ]);
    } finally {
      await close();
    }
  });

  it('keeps the writes of deferred work for later, reading what is committed meanwhile', async () => {
    const { first, second, close } = await twoConnections();
    try {
      await first.insertInto('t').values({ x: 1 }).execute();
      const { result, writes } = await withDeferredWrites(first, async (db) => {
        await db.insertInto('t').values({ x: 10 }).execute();
        await second.insertInto('t').values({ x: 2 }).execute(); // another connection's commit
        await expect(db.insertInto('t').values({ x: 11 }).returning('x').execute()).rejects.toThrow(
          /cannot be deferred/,
        );
        return db.selectFrom('t').select('x').orderBy('x').execute();
      });
      expect(result).toEqual([{ x: 1 }, { x: 2 }]);
      expect(writes.map((write) => write.parameters)).toEqual([[10]]);
      // The connection writes again once the work is done, and the kept writes run as given.
      await first.transaction().execute(async (trx) => {
        for (const write of writes) await trx.executeQuery(write);
      });
      expect(await second.selectFrom('t').select('x').orderBy('x').execute()).toEqual([
        { x: 1 },
        { x: 2 },
        { x: 10 },
      ]);
    } finally {
      await close();
    }
  });
});
