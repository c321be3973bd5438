import { findApiKeyByTokenHash, touchApiKey } from '../api-keys/api-keys.repo.js';
import type { Clock } from '../auth/clock.js';
import { hashToken } from '../auth/tokens.js';
import type { Db } from '../db/database.js';

export type WriteKeyCheck =
  | { ok: true; workspaceId: string; keyId: string }
  | { ok: false; reason: 'unknown' | 'revoked' | 'not_a_write_key' };

/**
 * Checks write keys, remembering each answer for `ttlMs`: ingestion sees the same few keys on
 * every request, and a database read per batch would cost more than the batch. A revoked key
 * is refused on this server within `ttlMs`, and at once on the server that revoked it.
 */
export function createWriteKeyChecker({
  db,
  clock,
  ttlMs = 10_000,
}: {
  db: Db;
  clock: Clock;
  ttlMs?: number;
}) {
  const known = new Map<string, { check: WriteKeyCheck; until: number }>();

  async function check(token: string): Promise<WriteKeyCheck> {
    const now = Date.parse(clock());
    const remembered = known.get(token);
    if (remembered !== undefined && remembered.until > now) return remembered.check;
    const key = await findApiKeyByTokenHash(db, hashToken(token));
    const result: WriteKeyCheck =
      key === undefined
        ? { ok: false, reason: 'unknown' }
        : key.revokedAt !== null
          ? { ok: false, reason: 'revoked' }
          : key.kind !== 'write'
            ? { ok: false, reason: 'not_a_write_key' }
            : { ok: true, workspaceId: key.workspaceId, keyId: key.id };
    if (result.ok) await touchApiKey(db, result.keyId, clock());
    // Unknown tokens are not remembered: a flood of made-up keys must not fill the memory.
    if (key !== undefined) known.set(token, { check: result, until: now + ttlMs });
    return result;
  }

  return {
    check,
    /** Forgets a key at once (it was revoked here). */
    forget(keyId: string): void {
      for (const [token, entry] of known) {
        if (entry.check.ok && entry.check.keyId === keyId) known.delete(token);
      }
    },
  };
}

export type WriteKeyChecker = ReturnType<typeof createWriteKeyChecker>;
