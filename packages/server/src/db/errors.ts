/**
 * Whether a driver error is a unique (or primary key) constraint violation, on either engine:
 * better-sqlite3 reports `SQLITE_CONSTRAINT_UNIQUE` / `SQLITE_CONSTRAINT_PRIMARYKEY`, PostgreSQL
 * SQLSTATE 23505 (`unique_violation`, which covers primary keys too).
 *
 * On PostgreSQL the failed statement aborts its transaction: map the error to an answer and
 * throw, never query on in the same `trx`.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
