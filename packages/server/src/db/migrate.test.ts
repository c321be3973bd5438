import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, testEngines } from '../testing/engines.js';
import { makeWorkspace, makeWorkspaceBeforeRefs } from '../testing/factories.js';
import { newEvent } from '../testing/stored-events.js';
import { insertEvents } from '../tracking/events-insert.repo.js';
import { migrateToLatest, migrationStatus } from './migrate.js';
import { migrations } from './migrations/index.js';

const opened: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.drop()));
});
async function emptyDatabase(engine: (typeof engines)[number]) {
  const database = await createTestDatabase(engine, { migrate: false });
  opened.push(database);
  return database;
}

const engines = testEngines();

/** Tables of this database only: on PostgreSQL other test files' schemas are visible too. */
async function tablesOf({ db, dialect }: TestDatabase) {
  const schema = await dialect.currentSchema(db as never);
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  return tables.filter((t) => schema === undefined || t.schema === schema);
}

describe.each(engines)('migrations [%s]', (engine) => {
  it('applies every migration once, then finds nothing pending', async () => {
    const database = await emptyDatabase(engine);
    expect(await migrationStatus(database)).toEqual({
      applied: [],
      pending: Object.keys(migrations),
    });
    expect(await migrateToLatest(database)).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(database)).toEqual([]);
    expect((await migrationStatus(database)).pending).toEqual([]);
  });

  it('leaves the metrics one index of rebuild requests and, on PostgreSQL, room to update in place', async () => {
    const database = await createTestDatabase(engine);
    opened.push(database);
    const { db } = database;
    if (engine === 'sqlite') {
      const { rows } = await sql<{ name: string }>`select name from sqlite_master
        where type = 'index' and tbl_name = 'enrollment_metrics' and sql is not null`.execute(db);
      expect(rows.map((r) => r.name)).toEqual(['enrollment_metrics_rebuild_requested']);
      return;
    }
    const { rows } = await sql<{ name: string }>`select indexname as name from pg_indexes
      where schemaname = current_schema() and tablename = 'enrollment_metrics'
      order by indexname`.execute(db);
    expect(rows.map((r) => r.name)).toEqual([
      'enrollment_metrics_pkey',
      'enrollment_metrics_rebuild_requested',
    ]);
    const {
      rows: [table],
    } = await sql<{ options: string[] | null }>`select reloptions as options from pg_class
      where oid = 'enrollment_metrics'::regclass`.execute(db);
    expect(table?.options).toEqual(['fillfactor=50']);
  });

  it('numbers the workspaces in creation order and keeps their message ids by number', async () => {
    const database = await emptyDatabase(engine);
    const { db, dialect } = database;
    const names = Object.keys(migrations);
    const before = names.indexOf('0012-workspace-refs');
    await migrateToLatest(
      database,
      Object.fromEntries(Object.entries(migrations).slice(0, before)),
    );
    // Created in the order b, a: refs follow the creation time, not the id.
    for (const [id, createdAt] of [
      ['ws_b', '2026-01-01T00:00:00.000Z'],
      ['ws_a', '2026-02-01T00:00:00.000Z'],
    ] as const) {
      await makeWorkspaceBeforeRefs(db, { id, createdAt });
      await sql`insert into event_ids (workspace_id, message_id)
        values (${id}, 'm1'), (${id}, ${`only-${id}`})`.execute(db);
    }
    expect(await migrateToLatest(database)).toEqual(names.slice(before));

    const refs = await db.selectFrom('workspaces').select(['id', 'ref']).orderBy('ref').execute();
    expect(refs.map((row) => [row.id, Number(row.ref)])).toEqual([
      ['ws_b', 1],
      ['ws_a', 2],
    ]);
    const ids = await db
      .selectFrom('event_ids')
      .select(['workspace_ref', 'message_id'])
      .orderBy('workspace_ref')
      .orderBy('message_id')
      .execute();
    expect(ids.map((row) => [Number(row.workspace_ref), row.message_id])).toEqual([
      [1, 'm1'],
      [1, 'only-ws_b'],
      [2, 'm1'],
      [2, 'only-ws_a'],
    ]);
    // A message id kept before is still known; one another workspace had is new here.
    const { seqs } = await insertEvents(db, dialect, [
      newEvent('ws_a', 'm1'),
      newEvent('ws_a', 'only-ws_b'),
    ]);
    expect(seqs.map((seq) => seq !== null)).toEqual([false, true]);
    // A workspace created now takes the next number.
    const created = await makeWorkspace(db);
    const row = await db
      .selectFrom('workspaces')
      .select('ref')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(Number(row.ref)).toBe(3);
  });

  it('rolls a failing batch back whole, leaving no trace of its earlier steps', async () => {
    const database = await emptyDatabase(engine);
    const broken = {
      ...migrations,
      '9999-broken': {
        async up(db: Parameters<(typeof migrations)[string]['up']>[0]) {
          await db.schema.createTable('half_made').addColumn('id', 'integer').execute();
          await sql`select * from table_that_does_not_exist`.execute(db);
        },
      },
    };
    await expect(migrateToLatest(database, broken)).rejects.toThrow(
      /9999-broken failed and was rolled back/,
    );
    const tables = (await tablesOf(database)).map((t) => t.name);
    expect(tables).not.toContain('half_made');
    expect(tables).not.toContain('workspaces');
    expect((await migrationStatus(database)).applied).toEqual([]);
  });
});

/** Both engines must end with the same tables, columns and nullability. */
describe.runIf(engines.length === 2)('schema parity between SQLite and PostgreSQL', () => {
  const comparable: Record<string, string> = {
    timestamptz: 'text',
    jsonb: 'text',
    date: 'text',
    bool: 'integer',
    boolean: 'integer',
    int8: 'integer',
    xid8: 'integer',
    int4: 'integer',
    bigint: 'integer',
  };
  async function shape(engine: 'sqlite' | 'postgres') {
    const database = await createTestDatabase(engine);
    opened.push(database);
    const tables = await tablesOf(database);
    return tables
      .filter((t) => !t.name.startsWith('waymark_migrations'))
      .map((t) => ({
        table: t.name,
        columns: t.columns
          .map(
            (c) =>
              `${c.name}:${comparable[c.dataType.toLowerCase()] ?? c.dataType.toLowerCase()}${c.isNullable ? '?' : ''}`,
          )
          .sort(),
      }))
      .sort((a, b) => a.table.localeCompare(b.table));
  }

  it('migrates both engines to the same schema', async () => {
    const [sqlite, postgres] = await Promise.all([shape('sqlite'), shape('postgres')]);
    expect(postgres).toEqual(sqlite);
    expect(sqlite.map((t) => t.table)).toEqual(
      expect.arrayContaining([
        'workspaces',
        'users',
        'accounts',
        'contacts',
        'programs',
        'program_versions',
        'enrollments',
        'milestone_progress',
        'audit_events',
      ]),
    );
  });
});
