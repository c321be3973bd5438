import { type RawBuilder, sql } from 'kysely';

/**
 * The account index's key for an account of a workspace: a 53-bit hash of the workspace id and
 * the account's external id. An index keyed by integers costs SQLite a third of one keyed by
 * the two texts (decision 0017), and a hash needs no table of its own, nor a lookup per event.
 *
 * Two accounts may share a ref: whoever reads the index by ref also checks each event's own
 * workspace and account, so a shared ref costs a few rows more, never a wrong one.
 *
 * Stored with every event and in the index: the function must never change.
 */
export function accountRef(workspaceId: string, accountKey: string): number {
  // cyrb53 (public domain, bryc): two 32-bit multiply-xorshift lanes over the UTF-16 units.
  const text = `${workspaceId}\u0000${accountKey}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const DAY_MS = 86_400_000;

/**
 * The account index's day of a time in ms: whole days since 1970, rounded toward zero as both
 * engines divide integers (and as `dayOfMs` does).
 */
export const dayOf = (ms: RawBuilder<number>) => sql<number>`${ms} / ${sql.lit(DAY_MS)}`;
export const dayOfMs = (ms: number) => Math.trunc(ms / DAY_MS);
