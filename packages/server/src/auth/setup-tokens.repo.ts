import type { Db } from '../db/database.js';

export async function insertSetupToken(
  db: Db,
  tokenHash: string,
  createdAt: string,
  expiresAt: string,
) {
  await db
    .insertInto('setup_tokens')
    .values({ token_hash: tokenHash, created_at: createdAt, expires_at: expiresAt, used_at: null })
    .execute();
}

/** Marks a set-up token used; false when it is unknown, used already or expired. */
export async function useSetupToken(db: Db, tokenHash: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('setup_tokens')
    .set({ used_at: at })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
