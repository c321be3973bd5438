import { type DatabaseIntrospector, type Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { pgTimestampToIso } from './codec.js';
import { CurrentSchemaIntrospector } from './postgres-introspector.js';

const { builtins } = pg.types;

/**
 * Type parsers for this pool only (not pg's global registry), so PostgreSQL hands
 * back the same shapes as SQLite: ISO instants, `YYYY-MM-DD` dates, JSON as text,
 * and 64-bit integers as numbers.
 */
const parsers = new Map<number, (text: string) => unknown>([
  [builtins.TIMESTAMPTZ, pgTimestampToIso],
  [builtins.TIMESTAMP, (text) => pgTimestampToIso(`${text}Z`)],
  [builtins.DATE, (text) => text],
  [builtins.JSON, (text) => text],
  [builtins.JSONB, (text) => text],
  [builtins.INT8, (text) => Number(text)],
]);

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    return parsers.get(oid) ?? pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export function createPostgresPool(connectionString: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString, max, types, options: '-c TimeZone=UTC' });
}

class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db, super.createIntrospector(db));
  }
}

export function createPostgresDialect(pool: pg.Pool): PostgresDialect {
  return new CurrentSchemaPostgresDialect({ pool });
}

/** User, host and database only: no password, no query parameters (which can hold keys). */
export function redactConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
