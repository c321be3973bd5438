// Account import benchmark: 10,000 realistic rows on SQLite and PostgreSQL, against
// baselines measured in the same run. Runs the BUILT packages: `npm run build` first.
//
//   npm run bench:import                  # both engines
//   BENCH_ENGINES=sqlite npm run bench:import
//   BENCH_ROWS=50000 npm run bench:import
//   WAYMARK_TEST_DATABASE_URL=postgres://… npm run bench:import
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseAccountsCsv } from '@waymark/core';
import { importAccounts, migrateToLatest, openDatabase } from '@waymark/server';
import { parse } from 'csv-parse/sync';
import pg from 'pg';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const PG_URL =
  process.env.WAYMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/waymark_test';
const T = '2026-03-02T15:00:00.000Z';

// --- data: deterministic, shaped like a CRM export --------------------------------------
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = (items) => items[Math.floor(random() * items.length)];
const segments = ['Enterprise', 'Mid-Market', 'SMB'];
const zones = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'America/Los_Angeles', ''];
const plans = ['starter', 'growth', 'scale', 'enterprise'];
const words = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne'];
// Emails are unique across workspaces, so each import run's workspace has its own owners.
const owners = (run) => [1, 2, 3].map((n) => `csm${n}@run${run}.bench.example`);

function csvFor(rows, run, suffix = '') {
  seed = 42;
  const lines = [
    'external_id,name,segment,owner_email,time_zone,trait.plan,trait.seats,trait.arr,trait.sso,trait.crm,contact_email,contact_name',
  ];
  for (let i = 0; i < rows; i++) {
    const name = `${pick(words)} ${pick(words)} ${i}${suffix}`;
    lines.push(
      [
        `org_${i.toString(36).padStart(6, '0')}`,
        name.includes(',') ? `"${name}"` : name,
        pick(segments),
        pick([...owners(run), '']),
        pick(zones),
        pick(plans),
        Math.floor(random() * 500) + 1,
        (random() * 100_000).toFixed(2),
        random() < 0.3 ? 'true' : 'false',
        pick(['salesforce', 'hubspot', 'pipedrive', '']),
        `admin${i}@customer${i}.example`,
        `Admin ${i}`,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

// --- engines ------------------------------------------------------------------------------
async function openEngine(engine) {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-'));
    const database = openDatabase({ WAYMARK_DATA_DIR: dir });
    await migrateToLatest(database);
    return {
      database,
      drop: async () => {
        await database.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema} -c TimeZone=UTC`);
  const database = openDatabase({ DATABASE_URL: url.toString(), WAYMARK_DATA_DIR: '.' });
  await migrateToLatest(database);
  return {
    database,
    drop: async () => {
      await database.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

async function newWorkspace(db, run = null) {
  const id = randomUUID();
  await db
    .insertInto('workspaces')
    .values({
      id,
      slug: `bench-${id.slice(0, 8)}`,
      name: 'Bench',
      time_zone: 'UTC',
      settings: JSON.stringify({ atRiskAfterDays: 7, holidays: [] }),
      created_at: T,
      updated_at: T,
    })
    .execute();
  if (run === null) return id;
  await db
    .insertInto('users')
    .values(
      owners(run).map((email) => ({
        id: randomUUID(),
        workspace_id: id,
        email,
        name: email,
        role: 'csm',
        manager_id: null,
        active: 1,
        created_at: T,
        updated_at: T,
      })),
    )
    .execute();
  return id;
}

/** The floor: the same account rows, batched in one transaction, no checks, no audit. */
async function plainInsert(db, workspaceId, rows) {
  const values = rows.map(([externalId, name, segment, , timeZone, plan, seats]) => ({
    id: randomUUID(),
    workspace_id: workspaceId,
    external_id: externalId,
    name,
    segment: segment || null,
    owner_user_id: null,
    time_zone: timeZone || null,
    traits: JSON.stringify({ plan, seats }),
    outcome: null,
    created_at: T,
    updated_at: T,
  }));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < values.length; i += 90) {
      await trx
        .insertInto('accounts')
        .values(values.slice(i, i + 90))
        .execute();
    }
  });
}

async function median(fn) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// --- run ----------------------------------------------------------------------------------
const csvs = Array.from({ length: RUNS }, (_, run) => csvFor(ROWS, run));
const renamed = Array.from({ length: RUNS }, (_, run) => csvFor(ROWS, run, ' (renamed)'));
const csv = csvs[0];
const actor = { type: 'system', id: 'bench' };
const results = [];
const add = (engine, step, ms, baseline) =>
  results.push({ engine, step, ms, rowsPerSecond: (ROWS / ms) * 1000, baseline });

const bareParse = await median(() => parse(csv, { bom: true, skip_empty_lines: true }));
add('-', 'baseline: bare csv-parse', bareParse, null);
const coreParse = await median(() => {
  const { errors } = parseAccountsCsv(csv);
  if (errors.length > 0) throw new Error(JSON.stringify(errors.slice(0, 3)));
});
add('-', 'parseAccountsCsv (parse + check)', coreParse, bareParse);

const rawRows = parse(csv, { skip_empty_lines: true }).slice(1);
for (const engine of ENGINES) {
  let opened;
  try {
    opened = await openEngine(engine);
  } catch (error) {
    console.error(`skipping ${engine}: ${error.message}`);
    continue;
  }
  const { db } = opened.database;
  try {
    const insertMs = await median(async () => plainInsert(db, await newWorkspace(db), rawRows));
    add(engine, 'baseline: plain batched insert', insertMs, null);
    const workspaces = [];
    for (let i = 0; i < RUNS; i++) workspaces.push(await newWorkspace(db, i));
    const dryMs = await median((i) =>
      importAccounts(db, csvs[i], { workspaceId: workspaces[i], actor, at: T, dryRun: true }),
    );
    add(engine, 'import --dry-run (all creates)', dryMs, insertMs);
    const importMs = await median(async (i) => {
      const report = await importAccounts(db, csvs[i], {
        workspaceId: workspaces[i],
        actor,
        at: T,
        dryRun: false,
      });
      if (report.creates !== ROWS) throw new Error(JSON.stringify(report.errors.slice(0, 3)));
    });
    add(engine, 'import (creates + contacts + audit)', importMs, insertMs);
    const updateMs = await median(async (i) => {
      const report = await importAccounts(db, renamed[i], {
        workspaceId: workspaces[i],
        actor,
        at: T,
        dryRun: false,
      });
      if (report.updates !== ROWS) throw new Error(`expected updates: ${JSON.stringify(report)}`);
    });
    add(engine, 'import again, every row renamed (updates)', updateMs, insertMs);
  } finally {
    await opened.drop();
  }
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(
  `\naccount import, ${ROWS.toLocaleString('en')} rows, median of ${RUNS} runs, node ${process.version}, ${os.cpus().length} cpu(s)\n`,
);
console.log(
  `${pad('engine', 9)}${pad('step', 44)}${lpad('ms', 9)}${lpad('rows/s', 11)}${lpad('× baseline', 12)}`,
);
console.log('-'.repeat(85));
for (const r of results) {
  console.log(
    `${pad(r.engine, 9)}${pad(r.step, 44)}${lpad(r.ms.toFixed(1), 9)}${lpad(Math.round(r.rowsPerSecond).toLocaleString('en'), 11)}${lpad(r.baseline === null ? '1.00' : (r.ms / r.baseline).toFixed(2), 12)}`,
  );
}
