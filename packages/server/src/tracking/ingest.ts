import { randomUUID } from 'node:crypto';
import { isoInstant, type SegmentMessage } from '@waymark/core';
import type { Database } from '../db/database.js';
import { BatchBuilder, type BatchToWrite } from './event-batches.js';
import type { AccountUserRow, EventWriter } from './event-writer.js';

export interface IngestResult {
  received: number;
  /** New events; the rest were retries of message ids the workspace already had. */
  stored: number;
}

const USER_TTL_MS = 30_000;

/** How the requests waiting to be written are cut into group commits, and how many overlap. */
export interface CommitPacing {
  /** Commits under way at once. */
  inFlight: number;
  /** Events a commit takes at most (whole requests, at least one). */
  maxEvents: number;
}

/** Requests a commit takes at most, whatever their size. */
const MAX_REQUESTS_PER_COMMIT = 64;

/** One commit at a time, of whatever waits. */
export const ONE_COMMIT_AT_A_TIME: CommitPacing = { inFlight: 1, maxEvents: Infinity };

/**
 * Two commits under way, of at most 800 events, so the next commit is made up while one is
 * written. Without a bound, the requests of a busy moment all join one commit, and parsing and
 * writing take turns at them. On an SQLite file, whose writes run on a thread of their own, the
 * writing thread was busy 0.82 of a core instead of 0.77, and 10–22% more events a second went
 * in; on PostgreSQL, two transactions are written at once, by two of its processes: 29,573 ·
 * 35,140 events/s against 20,213 · 25,673 for one commit at a time, in turns (1,600 events a
 * commit measured the same: 31,987 · 34,860). Decision 0018.
 */
export const OVERLAPPED_COMMITS: CommitPacing = { inFlight: 2, maxEvents: 800 };

interface PendingCommit {
  /** The request's calls. */
  batch: BatchToWrite;
  users: AccountUserRow[];
  resolve(stored: number): void;
  reject(error: unknown): void;
}

/**
 * Stores calls as events, each attached to its account: the call's own group id (a group call,
 * or `context.groupId`), else the account the user was last grouped with by a group call.
 * Everything of one request is committed in one transaction (`write`) before the caller answers
 * 2xx.
 */
export function createIngestion({
  database: { db },
  write,
  pacing = ONE_COMMIT_AT_A_TIME,
}: {
  /** Where the users' accounts are read. */
  database: Pick<Database, 'db'>;
  write: EventWriter;
  pacing?: CommitPacing;
}) {
  // user → account, as group calls said; remembered briefly, since a batch names few users.
  const accountOfUser = new Map<string, { account: string | null; until: number }>();
  const userKey = (workspaceId: string, user: string) => `${workspaceId}\u0000${user}`;

  async function knownAccounts(
    workspaceId: string,
    calls: readonly SegmentMessage[],
    now: number,
  ): Promise<void> {
    const missing = new Set<string>();
    for (const message of calls) {
      const user = message.userId ?? message.anonymousId;
      if (message.groupId !== null || user === null) continue;
      const known = accountOfUser.get(userKey(workspaceId, user));
      if (known === undefined || known.until <= now) missing.add(user);
    }
    if (missing.size === 0) return;
    const rows = await db
      .selectFrom('account_users')
      .select(['user_key', 'account_key'])
      .where('workspace_id', '=', workspaceId)
      .where('user_key', 'in', [...missing])
      .execute();
    const found = new Map(rows.map((row) => [row.user_key, row.account_key]));
    if (accountOfUser.size > 100_000) accountOfUser.clear();
    for (const user of missing) {
      accountOfUser.set(userKey(workspaceId, user), {
        account: found.get(user) ?? null,
        until: now + USER_TTL_MS,
      });
    }
  }

  // Group commit: requests that arrive while a transaction is being written share the next
  // one, so a busy server writes (and syncs) once for many requests, never later than now.
  const waiting: PendingCommit[] = [];
  let writes = 0;
  let scheduled = false;

  function commit(batch: BatchToWrite, users: AccountUserRow[]): Promise<number> {
    return new Promise((resolve, reject) => {
      waiting.push({ batch, users, resolve, reject });
      writeSoon();
    });
  }

  /**
   * Starts a write on the next turn of the event loop, if one may start: requests parsed in this
   * turn join it (a larger commit writes each index page once for more events).
   */
  function writeSoon(): void {
    if (scheduled || writes >= pacing.inFlight || waiting.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void writeGroup(nextGroup());
      writeSoon();
    });
  }

  /** The waiting requests the next commit takes, oldest first. */
  function nextGroup(): PendingCommit[] {
    let count = 0;
    let events = 0;
    for (const pending of waiting) {
      if (count === MAX_REQUESTS_PER_COMMIT) break;
      if (count > 0 && events + pending.batch.content.size > pacing.maxEvents) break;
      count += 1;
      events += pending.batch.content.size;
    }
    return waiting.splice(0, count);
  }

  async function writeGroup(group: PendingCommit[]): Promise<void> {
    writes += 1;
    try {
      const stored = await write({
        batches: group.map((pending) => pending.batch),
        users: group.flatMap((pending) => pending.users),
      });
      let at = 0;
      for (const pending of group) {
        let count = 0;
        for (let i = 0; i < pending.batch.content.size; i++) count += stored[at++] ?? 0;
        pending.resolve(count);
      }
    } catch (error) {
      for (const pending of group) pending.reject(error);
    } finally {
      writes -= 1;
      writeSoon();
    }
  }

  async function ingest(
    workspaceId: string,
    calls: readonly SegmentMessage[],
    receivedAt: string,
  ): Promise<IngestResult> {
    const now = Date.now();
    await knownAccounts(workspaceId, calls, now);
    const batch = new BatchBuilder(workspaceId, receivedAt);
    const grouped = new Map<string, string>();
    for (const message of calls) {
      let account = message.groupId;
      if (message.type === 'group' && account !== null) {
        for (const user of [message.userId, message.anonymousId]) {
          if (user === null) continue;
          grouped.set(user, account);
          accountOfUser.set(userKey(workspaceId, user), { account, until: now + USER_TTL_MS });
        }
      } else if (account === null) {
        const user = message.userId ?? message.anonymousId;
        account =
          user === null ? null : (accountOfUser.get(userKey(workspaceId, user))?.account ?? null);
      }
      batch.add(
        [
          message.messageId ?? `wm-${randomUUID()}`,
          message.type,
          message.event,
          account,
          message.userId,
          message.anonymousId,
          isoInstant(message.timestamp),
        ],
        message.timestamp,
        message.json,
      );
    }
    // Nothing of the parsed calls is kept while the commit is under way: they die young.
    const received = calls.length;
    const stored = await commit(
      batch.toWrite(),
      [...grouped].map(([user, account]) => ({
        workspace_id: workspaceId,
        user_key: user,
        account_key: account,
        updated_at: receivedAt,
      })),
    );
    return { received, stored };
  }

  return { ingest };
}

export type Ingestion = ReturnType<typeof createIngestion>;
