import type { Db } from '../db/database.js';
import { type BatchRow, eventsOfBatch } from '../tracking/event-batches.js';
import {
  BATCH_COLUMNS,
  type NewEvent,
  type StoredEvent,
  TXID_AS_TEXT,
} from '../tracking/events.repo.js';
import { T0 } from './factories.js';

/** An event to store: acme's user ada synced a contact at T0, unless `fields` say otherwise. */
export function newEvent(
  workspaceId: string,
  messageId: string,
  fields: Partial<NewEvent> = {},
): NewEvent {
  return {
    workspace_id: workspaceId,
    message_id: messageId,
    type: 'track',
    event: 'Contact Synced',
    account_key: 'acme',
    user_id: 'ada',
    anonymous_id: null,
    timestamp: T0,
    received_at: T0,
    payload: '{}',
    ...fields,
  };
}

/**
 * Every stored event (of one workspace, when given), in commit order, committed or not: what a
 * test asserts about the store, read from its batches as the server's readers read them.
 */
export async function storedEvents(db: Db, workspaceId?: string): Promise<StoredEvent[]> {
  const rows: BatchRow[] = await db
    .selectFrom('event_batches')
    .select(BATCH_COLUMNS)
    .select(TXID_AS_TEXT)
    .$if(workspaceId !== undefined, (q) => q.where('workspace_id', '=', workspaceId ?? ''))
    .execute();
  return rows.flatMap(eventsOfBatch).sort((a, b) => {
    const [x, y] = [BigInt(a.txid), BigInt(b.txid)];
    return x === y ? a.seq - b.seq : x < y ? -1 : 1;
  });
}
