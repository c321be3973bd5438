import { type Kysely, sql } from 'kysely';
import { accountRef } from '../../tracking/account-ref.js';
import type { Dialect } from '../dialect.js';

const PAGE = 1000;
const DAY_MS = 86_400_000;

/**
 * The account index is keyed by integers (decision 0017): each event carries its account's
 * `account_ref`, and the index holds (ref, day, time in ms, seq) instead of the workspace id,
 * the external id and the time as text, which cost SQLite three times as much to insert in
 * bulk. Events stored before get their ref here, and the index is built again from them up to
 * its cursor, which stays where it is.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await db.schema.alterTable('events').addColumn('account_ref', 'bigint').execute();
  // A page of events at a time, each page's refs in one statement (a round trip per event
  // would take PostgreSQL minutes for millions of them).
  for (let after = 0; ; ) {
    const { rows } = await sql<{ seq: number; workspace_id: string; account_key: string }>`
      select seq, workspace_id, account_key from events
      where seq > ${after} and account_key is not null order by seq limit ${PAGE}`.execute(db);
    const last = rows.at(-1);
    if (last === undefined) break;
    const refs = rows.map(
      (row) =>
        sql`(cast(${row.seq} as bigint), cast(${accountRef(row.workspace_id, row.account_key)} as bigint))`,
    );
    await sql`update events set account_ref = refs.column2
      from (values ${sql.join(refs)}) as refs
      where events.seq = refs.column1`.execute(db);
    after = Number(last.seq);
  }

  await db.schema.dropTable('account_events').execute();
  const { table, indexes } = dialect.groupedTable(
    db.schema
      .createTable('account_events')
      .addColumn('account_ref', 'bigint', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull()),
    'account_events',
    ['account_ref', 'day'],
    ['at', 'seq'],
  );
  await table.execute();
  const { rows } = await sql<{ txid: string; seq: number }>`
    select cast(txid as text) as txid, seq from tracking_cursor
    where name = 'account_events'`.execute(db);
  const cursor = rows[0] ?? { txid: '0', seq: 0 };
  const at = dialect.epochMs(sql.ref('timestamp'));
  await sql`insert into account_events (account_ref, day, at, seq)
    select account_ref, ${at} / ${sql.lit(DAY_MS)}, ${at}, seq from events
    where account_ref is not null and ${dialect.committedUpTo(cursor)}
    order by 1, 2, 3, 4`.execute(db);
  for (const index of indexes) await index.execute(db);
}
