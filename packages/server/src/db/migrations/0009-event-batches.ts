import { type Kysely, sql } from 'kysely';
import { dayOfMs } from '../../tracking/account-ref.js';
import {
  accountSpansOf,
  type BatchToWrite,
  batchesOf,
  CALLS_PER_BATCH,
  seqOf,
} from '../../tracking/event-batches.js';
import type { NewEvent } from '../../tracking/events.repo.js';
import type { Dialect } from '../dialect.js';

const PAGE = 5_000;
const CURSORS = ['events', 'account_events'] as const;

interface OldEvent extends NewEvent {
  txid: string;
  seq: number;
}

/**
 * Events are stored a batch to a row (decision 0018): the calls of one workspace received at one
 * instant and written in one commit, with a de-duplication entry for each call and an account
 * index entry for each account of a batch. The stored events are folded into batches in commit
 * order, a page at a time; the cursors move to the same events' new positions, and the account
 * index is built again up to its cursor.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await dialect
    .transactionIdColumn(dialect.serialPrimaryKey(db.schema.createTable('event_batches')))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('received_at', dialect.types.instant, (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    // The small texts first: SQLite reads a row's columns up to the last one asked for, and the
    // account index reads `accounts` alone.
    .addColumn('accounts', 'text', (c) => c.notNull())
    .addColumn('calls', 'text', (c) => c.notNull())
    .addColumn('payloads', 'text', (c) => c.notNull())
    .execute();
  for (const statement of dialect.commitOrderIndex('event_batches', 'id')) {
    await statement.execute(db);
  }
  await dialect
    .keyOrderedTable(
      db.schema
        .createTable('event_ids')
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_ids_pk', ['workspace_id', 'message_id']),
    )
    .execute();
  await sql`insert into event_ids (workspace_id, message_id)
    select workspace_id, message_id from events order by 1, 2`.execute(db);

  const { rows: cursorRows } = await sql<{ name: string; txid: string; seq: number }>`
    select name, cast(txid as text) as txid, seq from tracking_cursor`.execute(db);
  const oldCursors = new Map(cursorRows.map((row) => [row.name, row]));
  const newCursors = new Map<string, { txid: string; seq: number }>();
  const entries: [number, number, number, number, number][] = [];

  // Each run of events of one transaction, workspace and arrival becomes a batch.
  let run: OldEvent[] = [];
  const fold = async () => {
    const first = run[0];
    if (first === undefined) return;
    // One workspace, one arrival, at most CALLS_PER_BATCH calls: one batch.
    const { content } = batchesOf(run)[0] as BatchToWrite;
    const txid = dialect.engine === 'postgres' ? sql`cast(${first.txid} as xid8)` : sql`0`;
    const { rows } = await sql<{ id: number }>`insert into event_batches
      (${sql.raw(dialect.engine === 'postgres' ? 'txid, ' : '')}workspace_id, received_at, size,
        accounts, calls, payloads)
      ${dialect.engine === 'postgres' ? sql`overriding system value ` : sql``}values (
      ${dialect.engine === 'postgres' ? sql`${txid}, ` : sql``}${content.workspace_id},
      ${content.received_at}, ${content.size}, ${content.accounts}, ${content.calls},
      ${content.payloads}) returning id`.execute(db);
    const id = Number(rows[0]?.id);
    run.forEach((event, position) => {
      for (const name of CURSORS) {
        const cursor = oldCursors.get(name);
        if (cursor !== undefined && passedOld(cursor, event)) {
          newCursors.set(name, { txid: first.txid, seq: seqOf(id, position) });
        }
      }
    });
    for (const [ref, oldest, newest] of accountSpansOf(content.accounts)) {
      entries.push([ref, dayOfMs(newest), newest, id, oldest]);
    }
    run = [];
  };
  for (let after = { txid: '0', seq: 0 }; ; ) {
    const { rows } = await sql<OldEvent>`select cast(txid as text) as txid, seq, workspace_id,
      message_id, type, event, account_key, user_id, anonymous_id, timestamp, received_at,
      payload from events where ${dialect.storedAfter(after)}
      order by ${dialect.commitOrder('events.seq')} limit ${PAGE}`.execute(db);
    for (const row of rows) {
      const event = { ...row, txid: String(row.txid), seq: Number(row.seq) };
      const first = run[0];
      if (
        first !== undefined &&
        (first.txid !== event.txid ||
          first.workspace_id !== event.workspace_id ||
          first.received_at !== event.received_at ||
          run.length === CALLS_PER_BATCH)
      ) {
        await fold();
      }
      run.push(event);
    }
    const last = rows.at(-1);
    if (last === undefined) break;
    after = { txid: String(last.txid), seq: Number(last.seq) };
  }
  await fold();

  for (const name of CURSORS) {
    if (!oldCursors.has(name)) continue;
    const cursor = newCursors.get(name) ?? { txid: '0', seq: 0 };
    await sql`update tracking_cursor set txid = ${cursor.txid}, seq = ${cursor.seq}
      where name = ${name}`.execute(db);
  }

  await db.schema.dropTable('account_events').execute();
  const { table, indexes } = dialect.groupedTable(
    db.schema
      .createTable('account_events')
      .addColumn('account_ref', 'bigint', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('batch', 'bigint', (c) => c.notNull())
      .addColumn('oldest', 'bigint', (c) => c.notNull()),
    'account_events',
    ['account_ref', 'day'],
    ['at', 'batch'],
  );
  await table.execute();
  // The index covers whole batches, up to its cursor's.
  const indexedTo = Math.floor((newCursors.get('account_events')?.seq ?? 0) / CALLS_PER_BATCH);
  const indexed = entries
    .filter((entry) => entry[3] <= indexedTo)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
  for (let i = 0; i < indexed.length; i += 1000) {
    const values = indexed.slice(i, i + 1000).map((entry) => sql`(${sql.join(entry)})`);
    await sql`insert into account_events (account_ref, day, at, batch, oldest)
      values ${sql.join(values)}`.execute(db);
  }
  for (const index of indexes) await index.execute(db);
  await db.schema.dropTable('events').execute();
}

/** Whether an old cursor is at or past an old event, in commit order. */
function passedOld(cursor: { txid: string; seq: number }, event: OldEvent): boolean {
  const [a, b] = [BigInt(cursor.txid), BigInt(event.txid)];
  return a > b || (a === b && Number(cursor.seq) >= event.seq);
}
