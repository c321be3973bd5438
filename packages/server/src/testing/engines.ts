import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Database, openDatabase } from '../db/database.js';
import type { Engine } from '../db/dialect.js';
import { migrateToLatest } from '../db/migrate.js';

/** `WAYMARK_TEST_ENGINES=sqlite,postgres` (the default): which engines persistence tests run on. */
export function testEngines(env: NodeJS.ProcessEnv = process.env): Engine[] {
  const listed = (env.WAYMARK_TEST_ENGINES ?? 'sqlite,postgres')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of listed) {
    if (name !== 'sqlite' && name !== 'postgres') {
      throw new Error(`WAYMARK_TEST_ENGINES: unknown engine "${name}" (expected sqlite, postgres)`);
    }
  }
  if (env.CI === 'true' && !listed.includes('postgres')) {
    throw new Error('WAYMARK_TEST_ENGINES: PostgreSQL is required under CI=true');
  }
  return listed as Engine[];
}

export function testPostgresUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.WAYMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/waymark_test';
}

/** Destructive set-up only ever touches a database whose name says it is for tests. */
export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!name.endsWith('_test')) {
    throw new Error(`refusing to use database "${name}" for tests: its name must end in _test`);
  }
}

export interface TestDatabase extends Database {
  /** The environment that points Waymark at this database, for a child process. */
  env: { DATABASE_URL?: string; WAYMARK_DATA_DIR: string };
  /** Drops the schema or file this database lives in. */
  drop(): Promise<void>;
}

/**
 * An empty database of its own for one test file: a new SQLite file, or a new
 * schema in the PostgreSQL test database. Files run in parallel without truncation.
 */
export async function createTestDatabase(
  engine: Engine,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-test-'));
    const database = openDatabase({ WAYMARK_DATA_DIR: dir });
    if (migrate) await migrateToLatest(database);
    return {
      ...database,
      env: { WAYMARK_DATA_DIR: dir },
      drop: async () => {
        await database.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const baseUrl = testPostgresUrl();
  assertTestDatabase(baseUrl);
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema} -c TimeZone=UTC`);
  const database = openDatabase({ DATABASE_URL: url.toString(), WAYMARK_DATA_DIR: '.' });
  if (migrate) await migrateToLatest(database);
  return {
    ...database,
    env: { DATABASE_URL: url.toString(), WAYMARK_DATA_DIR: os.tmpdir() },
    drop: async () => {
      await database.close();
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`drop schema ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
