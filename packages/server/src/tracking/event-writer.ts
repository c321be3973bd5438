import type { Insertable } from 'kysely';
import type { Database } from '../db/database.js';
import type { AccountUsersTable } from '../db/schema.js';
import type { CommittedEvents, TrackedEvent } from './activities.js';
import { insertEvents, lastSeq, type NewEvent } from './events.repo.js';

export type AccountUserRow = Insertable<AccountUsersTable>;

/** What one group commit of the ingestion writes, in one transaction. */
export interface EventsToWrite {
  /** The events of its requests, in order. */
  events: NewEvent[];
  /**
   * Each event's parsed properties, handed to the tracking with it where the tracking runs on
   * the same thread; elsewhere absent, and the tracking parses a payload when a filter asks.
   */
  properties?: Record<string, unknown>[];
  /** The account each user was put in by a group call of these requests. */
  users: AccountUserRow[];
}

/**
 * For each event of a write, 1 if it was stored, 0 for a message id the workspace had already,
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

  return async ({ events, properties, users }) => {
    const delivered = expectStored();
    try {
      const { after, inserted } = await db.transaction().execute(async (trx) => {
        const after = sequential ? await lastSeq(trx) : null;
        const inserted = await insertEvents(trx, dialect, events);
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
      const stored: StoredFlags = new Uint8Array(events.length);
      const committed: TrackedEvent[] = [];
      for (let i = 0; i < events.length; i++) {
        const seq = inserted.seqs[i] ?? null;
        if (seq !== null) {
          stored[i] = 1;
          committed.push(trackedEvent(events[i] as NewEvent, seq, inserted.txid, properties?.[i]));
        }
      }
      if (committed.length > 0) {
        onStored({ after, events: committed.sort((a, b) => a.seq - b.seq) });
      }
      return stored;
    } finally {
      delivered();
    }
  };
}

/**
 * A stored event as the tracking takes it, written out field by field: a spread of the event
 * measured three times slower, and ingestion makes one per event.
 */
function trackedEvent(
  event: NewEvent,
  seq: number,
  txid: string,
  properties: Record<string, unknown> | undefined,
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
