/**
 * The one place where values cross into and out of the database. Both engines
 * store instants as ISO-8601 UTC text on the way in (better-sqlite3 cannot bind a
 * Date) and hand them back in that same form (see the PostgreSQL type parsers).
 */

export function toDbFlag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

export function fromDbFlag(value: number | boolean): boolean {
  return value === true || value === 1;
}

export function toDbJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromDbJson<T>(text: string): T;
export function fromDbJson<T>(text: string | null): T | null;
export function fromDbJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

/** Aggregates come back as number (SQLite), or bigint text (PostgreSQL). */
export function toCount(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`count out of range: ${String(value)}`);
  return n;
}

// How PostgreSQL renders a timestamptz in a UTC session (Waymark's pool sets TimeZone=UTC).
const UTC_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/** PostgreSQL renders timestamptz as `2026-03-08 07:00:00.123+00`; return ISO-8601 UTC. */
export function pgTimestampToIso(text: string): string {
  // Every event read back carries two instants: in UTC, rewriting the text needs no Date.
  const utc = UTC_TIMESTAMP.exec(text);
  if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  const match = /^(\d{4,}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(
    text,
  );
  if (!match) return new Date(text).toISOString();
  const [, date, time, fraction = '', zone = 'Z'] = match;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, '0') : '.000';
  const offset =
    zone === 'Z'
      ? 'Z'
      : zone.length === 3
        ? `${zone}:00`
        : zone.replace(/^([+-]\d\d)(\d\d)$/, '$1:$2');
  return new Date(`${date}T${time}${millis}${offset}`).toISOString();
}
