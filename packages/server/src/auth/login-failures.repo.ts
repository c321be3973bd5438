import type { LoginFailures } from '@waymark/core';
import type { Db } from '../db/database.js';

export async function findLoginFailures(db: Db, email: string): Promise<LoginFailures | null> {
  const row = await db
    .selectFrom('login_failures')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirst();
  return row
    ? {
        failures: row.failures,
        firstFailureAt: row.first_failure_at,
        lockedUntil: row.locked_until,
      }
    : null;
}

export async function saveLoginFailures(
  db: Db,
  email: string,
  state: LoginFailures,
): Promise<void> {
  const row = {
    failures: state.failures,
    first_failure_at: state.firstFailureAt,
    locked_until: state.lockedUntil,
  };
  await db
    .insertInto('login_failures')
    .values({ email, ...row })
    .onConflict((oc) => oc.column('email').doUpdateSet(row))
    .execute();
}

export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.deleteFrom('login_failures').where('email', '=', email).execute();
}
