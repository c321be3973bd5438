import { randomUUID } from 'node:crypto';
import type { SegmentMessage } from '@waymark/core';
import type { Db } from '../db/database.js';
import { insertEvents, type NewEvent } from './events.repo.js';

/** A call as it arrived (its JSON text, kept as the raw event) and as it was parsed. */
export interface ReceivedCall {
  message: SegmentMessage;
  payload: string;
}

export interface IngestResult {
  received: number;
  /** New events; the rest were retries of message ids the workspace already had. */
  stored: number;
}

const USER_TTL_MS = 30_000;

/**
 * Stores calls as events, each attached to its account: the call's own group id (a group call,
 * or `context.groupId`), else the account the user was last grouped with by a group call.
 * Everything of one request is committed in one transaction before the caller answers 2xx.
 */
export function createIngestion({ db, onStored }: { db: Db; onStored: () => void }) {
  // user → account, as group calls said; remembered briefly, since a batch names few users.
  const accountOfUser = new Map<string, { account: string | null; until: number }>();
  const userKey = (workspaceId: string, user: string) => `${workspaceId}\u0000${user}`;

  async function knownAccounts(
    workspaceId: string,
    calls: readonly ReceivedCall[],
    now: number,
  ): Promise<void> {
    const missing = new Set<string>();
    for (const { message } of calls) {
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

  async function ingest(
    workspaceId: string,
    calls: readonly ReceivedCall[],
    receivedAt: string,
  ): Promise<IngestResult> {
    const now = Date.now();
    await knownAccounts(workspaceId, calls, now);
    const events: NewEvent[] = [];
    const grouped = new Map<string, string>();
    for (const { message, payload } of calls) {
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
        payload,
      });
    }
    const stored = await db.transaction().execute(async (trx) => {
      const inserted = await insertEvents(trx, events);
      if (grouped.size > 0) {
        await trx
          .insertInto('account_users')
          .values(
            [...grouped].map(([user, account]) => ({
              workspace_id: workspaceId,
              user_key: user,
              account_key: account,
              updated_at: receivedAt,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['workspace_id', 'user_key']).doUpdateSet((eb) => ({
              account_key: eb.ref('excluded.account_key'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute();
      }
      return inserted;
    });
    if (stored > 0) onStored();
    return { received: calls.length, stored };
  }

  return { ingest };
}

export type Ingestion = ReturnType<typeof createIngestion>;
