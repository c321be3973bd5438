import type { Db } from '../db/database.js';
import { type BatchRow, eventsOfBatch } from '../tracking/event-batches.js';
import { BATCH_COLUMNS, type StoredEvent, TXID_AS_TEXT } from '../tracking/events.repo.js';

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
