import { randomUUID } from 'node:crypto';
import type { SegmentMessage } from '@waymark/core';
import type { Insertable } from 'kysely';
import type { Database } from '../db/database.js';
import type { AccountUsersTable } from '../db/schema.js';
import type { CommittedEvents, TrackedEvent } from './activities.js';
import { insertEvents, lastSeq, type NewEvent } from './events.repo.js';

export interface IngestResult {
  received: number;
  /** New events; the rest were retries of message ids the workspace already had. */
  stored: number;
}

const USER_TTL_MS = 30_000;
const MAX_REQUESTS_PER_COMMIT = 64;

type AccountUserRow = Insertable<AccountUsersTable>;

interface PendingCommit {
  events: NewEvent[];
  /** Each event's parsed properties, handed to the tracking with it. */
  properties: Record<string, unknown>[];
  users: AccountUserRow[];
  resolve(stored: number): void;
  reject(error: unknown): void;
}

/**
 * Stores calls as events, each attached to its account: the call's own group id (a group call,
 * or `context.groupId`), else the account the user was last grouped with by a group call.
 * Everything of one request is committed in one transaction before the caller answers 2xx.
 */
export function createIngestion({
  database: { db, dialect },
  onStored,
  expectStored = () => () => {},
  keepingUp = () => Promise.resolve(),
}: {
  database: Pick<Database, 'db' | 'dialect'>;
  onStored: (committed: CommittedEvents) => void;
  /**
   * Told as a commit begins whose events `onStored` will bring; what it returns is called once
   * they are brought, or the commit failed.
   */
  expectStored?: () => () => void;
  /**
   * Resolves when the tracking is close enough behind for more events to be committed: a
   * tracking on another thread that fell far behind slows the ingestion to its own pace, so
   * that events keep completing milestones within a second.
   */
  keepingUp?: () => Promise<void>;
}) {
  // Where one process alone writes events (SQLite), each commit's follow the last one's.
  const sequential = !dialect.capabilities.concurrentWorkers;
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
  let writing = false;

  function commit(
    events: NewEvent[],
    properties: Record<string, unknown>[],
    users: AccountUserRow[],
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      waiting.push({ events, properties, users, resolve, reject });
      if (!writing) void writeWaiting();
    });
  }

  async function writeWaiting(): Promise<void> {
    writing = true;
    while (waiting.length > 0) {
      // Requests that arrived during the last commit are parsed first and join this one: a
      // larger commit writes each index page once for more events.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await keepingUp();
      const group = waiting.splice(0, MAX_REQUESTS_PER_COMMIT);
      const delivered = expectStored();
      try {
        const { after, inserted } = await db.transaction().execute(async (trx) => {
          const after = sequential ? await lastSeq(trx) : null;
          const keys = await insertEvents(
            trx,
            dialect,
            group.flatMap((pending) => pending.events),
          );
          // One row per user: PostgreSQL refuses an upsert that touches a row twice.
          const users = new Map(
            group
              .flatMap((pending) => pending.users)
              .map((row) => [`${row.workspace_id}\u0000${row.user_key}`, row]),
          );
          if (users.size > 0) {
            await trx
              .insertInto('account_users')
              .values([...users.values()])
              .onConflict((oc) =>
                oc.columns(['workspace_id', 'user_key']).doUpdateSet((eb) => ({
                  account_key: eb.ref('excluded.account_key'),
                  updated_at: eb.ref('excluded.updated_at'),
                })),
              )
              .execute();
          }
          return { after, inserted: keys };
        });
        // Each new event counts for the first request that carried it.
        const committed: TrackedEvent[] = [];
        for (const pending of group) {
          let stored = 0;
          pending.events.forEach((event, i) => {
            const seqs = inserted.seqs.get(event.workspace_id);
            const seq = seqs?.get(event.message_id);
            if (seqs === undefined || seq === undefined) return;
            seqs.delete(event.message_id);
            stored += 1;
            committed.push(trackedEvent(event, seq, inserted.txid, pending.properties[i] ?? {}));
          });
          pending.resolve(stored);
        }
        if (committed.length > 0) {
          onStored({ after, events: committed.sort((a, b) => a.seq - b.seq) });
        }
      } catch (error) {
        for (const pending of group) pending.reject(error);
      } finally {
        delivered();
      }
    }
    writing = false;
  }

  async function ingest(
    workspaceId: string,
    calls: readonly SegmentMessage[],
    receivedAt: string,
  ): Promise<IngestResult> {
    const now = Date.now();
    await knownAccounts(workspaceId, calls, now);
    const events: NewEvent[] = [];
    const properties: Record<string, unknown>[] = [];
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
      events.push({
        workspace_id: workspaceId,
        message_id: message.messageId ?? `wm-${randomUUID()}`,
        type: message.type,
        event: message.event,
        account_key: account,
        user_id: message.userId,
        anonymous_id: message.anonymousId,
        timestamp: new Date(message.timestamp).toISOString(),
        received_at: receivedAt,
        payload: message.json,
      });
      properties.push(message.properties);
    }
    const stored = await commit(
      events,
      properties,
      [...grouped].map(([user, account]) => ({
        workspace_id: workspaceId,
        user_key: user,
        account_key: account,
        updated_at: receivedAt,
      })),
    );
    return { received: calls.length, stored };
  }

  return { ingest };
}

export type Ingestion = ReturnType<typeof createIngestion>;

/**
 * A stored event as the tracking takes it, written out field by field: a spread of the event
 * measured three times slower, and ingestion makes one per event.
 */
function trackedEvent(
  event: NewEvent,
  seq: number,
  txid: string,
  properties: Record<string, unknown>,
): TrackedEvent {
  return {
    seq,
    txid,
    workspace_id: event.workspace_id,
    message_id: event.message_id,
    type: event.type,
    event: event.event,
    account_key: event.account_key,
    user_id: event.user_id,
    anonymous_id: event.anonymous_id,
    timestamp: event.timestamp,
    received_at: event.received_at,
    payload: event.payload,
    properties,
  };
}
