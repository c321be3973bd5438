import type { Insertable } from 'kysely';
import type { Database } from '../db/database.js';
import type { AccountUsersTable } from '../db/schema.js';
import type { CommittedEvents } from './activities.js';
import { type BatchToWrite, eventsOfBatch } from './event-batches.js';
import { lastSeq, type StoredEvent } from './events.repo.js';
import { inEventsTransaction, insertBatches } from './events-insert.repo.js';

export type AccountUserRow = Insertable<AccountUsersTable>;

/** What one group commit of the ingestion writes, in one transaction. */
export interface EventsToWrite {
  /** Its requests' calls, a batch for each request, in order. */
  batches: BatchToWrite[];
  /** The account each user was put in by a group call of these requests. */
  users: AccountUserRow[];
}

/**
 * For each call of a write, 1 if it was stored, 0 for a message id the workspace had already,
 * or had earlier in the same write (a retried request in the same commit). Bytes, not
 * booleans: the tracking thread sends them back, and a structured clone copies a typed array
 * at once, an array element by element.
 */
export type StoredFlags = Uint8Array;

export type EventWriter = (write: EventsToWrite) => Promise<StoredFlags>;

/**
 * Writes a group commit's events and users in one transaction, then hands the new events over
 * to the tracking (`onStored`), in commit order, without it reading them back.
 */
export function createEventWriter({
  database: { db, dialect },
  onStored,
  expectStored = () => () => {},
}: {
  database: Pick<Database, 'db' | 'dialect'>;
  onStored: (committed: CommittedEvents) => void;
  /**
   * Told as a commit begins whose events `onStored` will bring; what it returns is called once
   * they are brought, or the commit failed.
   */
  expectStored?: () => () => void;
}): EventWriter {
  // Where one process alone writes events (SQLite), each commit's follow the last one's.
  const sequential = !dialect.capabilities.concurrentWorkers;

  return async ({ batches, users }) => {
    const delivered = expectStored();
    try {
      const { after, inserted } = await inEventsTransaction(db, async (trx, assumeNew) => {
        const after = sequential ? await lastSeq(trx) : null;
        const inserted = await insertBatches(trx, dialect, batches, assumeNew);
        // One row per user: PostgreSQL refuses an upsert that touches a row twice.
        const byUser = new Map(
          users.map((row) => [`${row.workspace_id}\u0000${row.user_key}`, row]),
        );
        if (byUser.size > 0) {
          await trx
            .insertInto('account_users')
            .values([...byUser.values()])
            .onConflict((oc) =>
              oc.columns(['workspace_id', 'user_key']).doUpdateSet((eb) => ({
                account_key: eb.ref('excluded.account_key'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute();
        }
        return { after, inserted };
      });
      const calls = batches.reduce((sum, batch) => sum + batch.content.size, 0);
      const stored: StoredFlags = new Uint8Array(calls);
      // In commit order: the batches' ids ascend in the order given.
      const committed: StoredEvent[] = [];
      let at = 0;
      batches.forEach((batch, k) => {
        const row = inserted.stored[k];
        if (row != null) {
          stored.set(row.isNew, at);
          const events = eventsOfBatch({
            ...row.content,
            id: row.id,
            txid: inserted.txid,
          });
          let position = 0;
          for (let i = 0; i < row.isNew.length; i++) {
            if (row.isNew[i] === 0) continue;
            committed.push(events[position++] as StoredEvent);
          }
        }
        at += batch.content.size;
      });
      if (committed.length > 0) onStored({ after, events: committed });
      return stored;
    } finally {
      delivered();
    }
  };
}
