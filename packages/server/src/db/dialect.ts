import {
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Kysely,
  type RawBuilder,
  sql,
} from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/**
 * Where the two engines differ, and nowhere else. Migrations and repositories ask
 * this seam for a column type or a capability instead of testing the engine name.
 */
export interface Dialect {
  readonly engine: Engine;
  readonly types: {
    /** An instant, written and read as ISO-8601 UTC text. */
    readonly instant: 'text' | 'timestamptz';
    /** A calendar date, `YYYY-MM-DD`. */
    readonly date: 'text' | 'date';
    readonly json: 'text' | 'jsonb';
    readonly flag: 'integer' | 'boolean';
  };
  readonly capabilities: {
    /** Several processes may claim background work concurrently (`FOR UPDATE SKIP LOCKED`). */
    readonly concurrentWorkers: boolean;
    /**
     * Many rows insert faster as one array parameter per column, read by `unnest` (one
     * statement, one round trip), than as bound values: measured on PostgreSQL; SQLite binds
     * values in process faster than it reads arrays or JSON.
     */
    readonly columnArraysInsert: boolean;
    /**
     * The tracking reads and computes without the write lock, then writes after checking that
     * nothing it read changed (`tracking_version`): SQLite has one writer for the whole file.
     */
    readonly optimisticTracking: boolean;
  };
  /** Adds an auto-incrementing integer primary key column (named `id` unless told). */
  serialPrimaryKey<T extends string, C extends string, N extends string = 'id'>(
    table: CreateTableBuilder<T, C>,
    name?: N,
  ): CreateTableBuilder<T, C | N>;
  /**
   * Adds a column `txid`: the writing transaction, so a reader can follow rows in commit order.
   * PostgreSQL hands out sequence numbers before commit, in any order, so a reader that only
   * followed `seq` could pass a row that commits later; there `txid` is the transaction id, and
   * rows are read in (txid, seq) order below the oldest transaction still running. SQLite has
   * one writer, which commits in sequence order: `txid` is always 0.
   */
  transactionIdColumn<T extends string, C extends string>(
    table: CreateTableBuilder<T, C>,
  ): CreateTableBuilder<T, C | 'txid'>;
  /**
   * Rows after a position in commit order that no running transaction can still precede:
   * `seq > …` on SQLite (its one writer commits in `seq` order, and that condition uses the
   * primary key); on PostgreSQL `(txid, seq) > …` below the oldest running transaction.
   */
  committedAfter(position: { txid: string; seq: number }, column?: string): RawBuilder<boolean>;
  /** Rows after a position in commit order, committed or not. */
  storedAfter(position: { txid: string; seq: number }, column?: string): RawBuilder<boolean>;
  /**
   * Rows at or before a position in commit order. These three compare the position's `seq`
   * with `column` (`seq` unless told): `id` for event batches.
   */
  committedUpTo(position: { txid: string; seq: number }, column?: string): RawBuilder<boolean>;
  /**
   * A table stored in its primary key's order (SQLite's `without rowid`: one b-tree, not a
   * table and an index); PostgreSQL has no such table, and its primary key index serves.
   */
  keyOrderedTable<T extends string, C extends string>(
    table: CreateTableBuilder<T, C>,
  ): CreateTableBuilder<T, C>;
  /**
   * Keys a new table read by `group` (equal for many rows), its rows in `order` within a group.
   * SQLite stores the table in (group, order) order: a `without rowid` primary key. PostgreSQL
   * indexes `group` alone, and equal keys share one index entry per page (B-tree
   * deduplication): the index of a table that takes rows at thousands of places then stays
   * small enough to be written in memory. The statements to run after the table's.
   */
  groupedTable<T extends string, C extends string>(
    table: CreateTableBuilder<T, C>,
    name: T,
    group: readonly C[],
    order: readonly C[],
  ): { table: CreateTableBuilder<T, C>; indexes: RawBuilder<unknown>[] };
  /** The UTC calendar day (`YYYY-MM-DD`, a `types.date`) of an instant. */
  utcDay(instant: RawBuilder<unknown>): RawBuilder<string>;
  /** An instant as whole milliseconds since 1970 (a bigint): exact for the instants stored. */
  epochMs(instant: RawBuilder<unknown>): RawBuilder<number>;
  /** The ORDER BY list of commit order over a table, by its `table.seq`-like column. */
  commitOrder(column: `${string}.${string}`, direction?: 'asc' | 'desc'): RawBuilder<unknown>;
  /** The index that reads in commit order need (none on SQLite, where `seq` is that order). */
  commitOrderIndex(table: string, seqColumn: string): ReturnType<typeof sql.raw>[];
  /** SQL that makes a table refuse UPDATE and DELETE. */
  appendOnlyGuard(table: string): ReturnType<typeof sql.raw>[];
  /** The schema new tables land in (PostgreSQL's search path); none on SQLite. */
  currentSchema(db: Kysely<unknown>): Promise<string | undefined>;
}

export const sqliteDialect: Dialect = {
  engine: 'sqlite',
  types: { instant: 'text', date: 'text', json: 'text', flag: 'integer' },
  capabilities: { concurrentWorkers: false, columnArraysInsert: false, optimisticTracking: true },
  serialPrimaryKey: (table, name) =>
    table.addColumn(name ?? 'id', 'integer', (col: ColumnDefinitionBuilder) =>
      col.primaryKey().autoIncrement().notNull(),
    ),
  transactionIdColumn: (table) =>
    table.addColumn('txid', 'integer', (col: ColumnDefinitionBuilder) =>
      col.notNull().defaultTo(0),
    ),
  commitOrderIndex: () => [],
  committedAfter: ({ seq }, column = 'seq') => sql<boolean>`${sql.ref(column)} > ${seq}`,
  storedAfter: ({ seq }, column = 'seq') => sql<boolean>`${sql.ref(column)} > ${seq}`,
  committedUpTo: ({ seq }, column = 'seq') => sql<boolean>`${sql.ref(column)} <= ${seq}`,
  keyOrderedTable: (table) => table.modifyEnd(sql`without rowid`),
  groupedTable: (table, name, group, order) => ({
    table: sqliteDialect.keyOrderedTable(
      table.addPrimaryKeyConstraint(`${name}_pk`, [...group, ...order]),
    ),
    indexes: [],
  }),
  utcDay: (instant) => sql<string>`substr(${instant}, 1, 10)`,
  // Seconds with their fraction, as a double: rounding after the product gives the exact ms.
  epochMs: (instant) => sql<number>`cast(round(unixepoch(${instant}, 'subsec') * 1000) as integer)`,
  commitOrder: (column, direction = 'asc') => sql.raw(`${column} ${direction}`),
  appendOnlyGuard: (table) =>
    (['update', 'delete'] as const).map((op) =>
      sql.raw(
        `create trigger ${table}_no_${op} before ${op} on ${table} ` +
          `begin select raise(abort, '${table} is append-only'); end`,
      ),
    ),
  currentSchema: async () => undefined,
};

export const postgresDialect: Dialect = {
  engine: 'postgres',
  types: { instant: 'timestamptz', date: 'date', json: 'jsonb', flag: 'boolean' },
  capabilities: { concurrentWorkers: true, columnArraysInsert: true, optimisticTracking: false },
  serialPrimaryKey: (table, name) =>
    table.addColumn(name ?? 'id', 'bigint', (col: ColumnDefinitionBuilder) =>
      col.primaryKey().generatedAlwaysAsIdentity(),
    ),
  transactionIdColumn: (table) =>
    table.addColumn('txid', sql`xid8`, (col: ColumnDefinitionBuilder) =>
      col.notNull().defaultTo(sql`pg_current_xact_id()`),
    ),
  // Each bound on the row also bounds `txid` alone, which the row implies: with no statistics
  // (autovacuum off, or a table that just grew), the planner takes a row comparison for a third
  // of the table and scans all of it, while a range on one column reads as a small slice.
  committedAfter: ({ txid, seq }, column = 'seq') =>
    sql<boolean>`txid >= cast(${txid} as xid8) and (txid, ${sql.ref(column)}) > (cast(${txid} as xid8), ${seq}) and txid < pg_snapshot_xmin(pg_current_snapshot())`,
  storedAfter: ({ txid, seq }, column = 'seq') =>
    sql<boolean>`txid >= cast(${txid} as xid8) and (txid, ${sql.ref(column)}) > (cast(${txid} as xid8), ${seq})`,
  committedUpTo: ({ txid, seq }, column = 'seq') =>
    sql<boolean>`txid <= cast(${txid} as xid8) and (txid, ${sql.ref(column)}) <= (cast(${txid} as xid8), ${seq})`,
  keyOrderedTable: (table) => table,
  groupedTable: (table, name, group) => ({
    table,
    indexes: [
      sql`create index ${sql.id(`${name}_group`)} on ${sql.table(name)} (${sql.join(group.map((column) => sql.ref(column)))})`,
    ],
  }),
  utcDay: (instant) => sql<string>`cast(${instant} at time zone 'UTC' as date)`,
  // `extract` gives a numeric: exact.
  epochMs: (instant) => sql<number>`cast(extract(epoch from ${instant}) * 1000 as bigint)`,
  commitOrder: (column, direction = 'asc') =>
    sql.raw(`${column.split('.')[0]}.txid ${direction}, ${column} ${direction}`),
  commitOrderIndex: (table, seqColumn) => [
    sql.raw(`create index ${table}_commit_order on ${table} (txid, ${seqColumn})`),
  ],
  appendOnlyGuard: (table) => [
    sql.raw(
      `create or replace function ${table}_append_only() returns trigger language plpgsql as $$ ` +
        `begin raise exception '${table} is append-only'; end $$`,
    ),
    sql.raw(
      `create trigger ${table}_append_only before update or delete on ${table} ` +
        `for each statement execute function ${table}_append_only()`,
    ),
  ],
  currentSchema: async (db) =>
    (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema,
};
