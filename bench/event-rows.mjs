// The events `bench:sqlite-events` and `bench:postgres-events` store: ~360-byte payloads from
// 2,000 accounts, 10 accounts in each 100 events as in a request of `bench:ingest`.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ACCOUNTS = 2_000;

/** Loads a package as the server does (its database drivers). */
export const serverRequire = createRequire(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages/server/package.json'),
);

export const workspace = randomUUID();

export const payload = JSON.stringify({
  type: 'track',
  event: 'Report Viewed',
  userId: 'user-0000-00',
  messageId: randomUUID(),
  timestamp: new Date().toISOString(),
  properties: { report: 'weekly-summary', status: 'ok', durationMs: 1234, filters: ['a', 'b'] },
  context: { library: { name: 'analytics-node', version: '2.1.0' }, groupId: 'acct-0000' },
}).padEnd(360, ' ');

const start = Date.now();

/** 10 accounts in each 100 events, all of them in turn: 37 shares no factor with 2,000. */
const accountOf = (i) => ((Math.floor(i / 100) * 10 + (i % 10)) * 37) % ACCOUNTS;

/**
 * The `i`th event: its message id random (RudderStack's libraries) or time first (Segment's
 * analytics-node, `node-next-<ms>-<uuid>`, whose new keys land at the end of an index).
 */
export function eventOf(i, { segmentIds = true } = {}) {
  const account = accountOf(i);
  return {
    message_id: segmentIds ? `node-next-${start + i}-${randomUUID()}` : randomUUID(),
    account_key: `acct-${account}`,
    user_id: `user-${i % (ACCOUNTS * 20)}`,
    timestamp: new Date(start + i * 10).toISOString(),
    // An account's ref, as the server's 53-bit hash gives it: any integer of that size.
    account_ref: account * 4_503_599_627_370 + 1,
  };
}
