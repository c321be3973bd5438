import pg from 'pg';
import { assertTestDatabase, testEngines, testPostgresUrl } from './engines.js';

/**
 * Makes sure the PostgreSQL test database exists before any test file runs. An
 * unreachable server fails the run: persistence tests never skip an engine silently.
 */
export default async function setup(): Promise<void> {
  const engines = testEngines();
  console.log(`persistence tests run on: ${engines.join(', ')}`);
  if (!engines.includes('postgres')) return;
  const url = testPostgresUrl();
  assertTestDatabase(url);
  const name = new URL(url).pathname.slice(1);
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({
    connectionString: maintenance.toString(),
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is unreachable at ${maintenance.host} (${(error as Error).message}). ` +
        'Start it, point WAYMARK_TEST_DATABASE_URL at one, or run only SQLite with WAYMARK_TEST_ENGINES=sqlite (not allowed under CI=true).',
    );
  }
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}
