// What storing an event costs PostgreSQL, in the server's layout before decision 0018 and in
// decision 0018's (a row a request, as the server now stores events): the rows of `bench:sqlite-events` (~360-byte payloads, 10 accounts in each request
// of 100 events, Segment's time-first message ids), written one group commit a transaction as
// the server writes them, against a bare table (no index) measured in the same run. Each layout
// prints the wall time an event and the CPU an event of PostgreSQL's backend (read from /proc)
// and of this process, since on a machine of two cores the database's CPU is the server's loss.
//
//   npm run bench:postgres-events                      # 200,000 rows a layout
//   BENCH_ROWS=500000 npm run bench:postgres-events
//   WAYMARK_TEST_DATABASE_URL=postgres://… npm run bench:postgres-events
import fs from 'node:fs';
import os from 'node:os';
import { ACCOUNTS, eventOf, payload, serverRequire, workspace } from './event-rows.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const TRANSACTION_SIZES = [1_600, 6_400]; // 16 and 64 connections' requests of 100 events
const REQUEST_SIZE = 100;
/** How many events the tracker indexes by account at once (about every 2 s under load). */
const INDEX_EVERY = 64_000;
const DAY_MS = 86_400_000;
const URL =
  process.env.WAYMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/waymark_test';

const pg = serverRequire('pg');

const EVENTS_TABLE = `create table events (
  seq bigserial, txid xid8 not null default pg_current_xact_id(),
  workspace_id text not null, message_id text not null, type text not null, event text,
  account_key text, user_id text, anonymous_id text, timestamp timestamptz not null,
  received_at timestamptz not null, payload text not null, account_ref bigint)`;

/** The server's insert (`events.repo.ts`): a column an array, the payloads as one text. */
const EVENTS_INSERT = `insert into events (workspace_id, message_id, type, event, account_key,
    user_id, anonymous_id, timestamp, received_at, payload, account_ref)
  select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::timestamptz[], $9::timestamptz[], string_to_array($10::text, E'\\x1e'),
    $11::bigint[])
  on conflict (workspace_id, message_id) do nothing
  returning workspace_id, message_id, seq, cast(txid as text) as txid`;

/** The tracker's account index in bulk (`account-index.repo.ts`), in the index's order. */
const INDEX_FROM_EVENTS = `insert into account_events (account_ref, day, at, seq)
  select account_ref, at / ${DAY_MS}, at, seq from (
    select account_ref, cast(extract(epoch from timestamp) * 1000 as bigint) as at, seq
    from events where seq > $1 and account_ref is not null) as e
  order by 1, 2, 3, 4`;

const ACCOUNT_EVENTS = [
  `create table account_events (account_ref bigint not null, day integer not null,
    at bigint not null, seq bigint not null)`,
  'create index account_events_group on account_events (account_ref, day)',
];

function eventsWrite(events, received) {
  const column = (f) => events.map(f);
  return [
    column(() => workspace),
    column((e) => e.message_id),
    column(() => 'track'),
    column(() => 'Report Viewed'),
    column((e) => e.account_key),
    column((e) => e.user_id),
    column(() => null),
    column((e) => e.timestamp),
    column(() => received),
    column(() => payload).join('\u001e'),
    column((e) => e.account_ref),
  ];
}

const LAYOUTS = [
  {
    name: 'no index (baseline)',
    tables: [EVENTS_TABLE],
    async write(client, events, received) {
      await client.query(
        EVENTS_INSERT.replace(/on conflict[\s\S]*$/, 'returning seq'),
        eventsWrite(events, received),
      );
    },
  },
  {
    // The server until decision 0018: a row an event, its de-duplication and commit-order
    // entries, and the account index in bulk from the events.
    name: 'a row an event (until 0018)',
    tables: [
      EVENTS_TABLE.replace('seq bigserial', 'seq bigserial primary key'),
      'create unique index events_message on events (workspace_id, message_id)',
      'create index events_commit_order on events (txid, seq)',
      ...ACCOUNT_EVENTS,
    ],
    async write(client, events, received) {
      await client.query(EVENTS_INSERT, eventsWrite(events, received));
    },
    async index(client, state) {
      const { rows } = await client.query('select max(seq) as seq from events');
      await client.query(INDEX_FROM_EVENTS, [state.indexed ?? 0]);
      state.indexed = rows[0].seq;
    },
  },
  {
    // Decision 0018: a row a request (its calls as one text), an event only its
    // de-duplication entry, and an account index entry for each account of a request.
    name: 'a row a request, entries by account',
    tables: [
      `create table event_requests (seq bigserial primary key,
        txid xid8 not null default pg_current_xact_id(), workspace_id text not null,
        received_at timestamptz not null, calls text not null)`,
      'create index event_requests_commit_order on event_requests (txid, seq)',
      `create table event_ids (workspace_id text not null, message_id text not null,
        request bigint not null, position integer not null,
        primary key (workspace_id, message_id))`,
      `create table account_events (account_ref bigint not null, day integer not null,
        at bigint not null, request bigint not null, position integer not null)`,
      'create index account_events_group on account_events (account_ref, day)',
    ],
    async write(client, events, received, state) {
      const requests = [];
      for (let i = 0; i < events.length; i += REQUEST_SIZE) {
        requests.push(events.slice(i, i + REQUEST_SIZE));
      }
      const { rows } = await client.query(
        `insert into event_requests (workspace_id, received_at, calls)
          select $1, $2, unnest(string_to_array($3::text, E'\\x1d')) returning seq`,
        // One text, as the server sends payloads: an array of texts is escaped quote by quote.
        [
          workspace,
          received,
          requests.map((calls) => calls.map(() => payload).join('\u001e')).join('\u001d'),
        ],
      );
      const ids = { request: [], position: [], message: [] };
      requests.forEach((calls, r) => {
        calls.forEach((call, position) => {
          ids.request.push(rows[r].seq);
          ids.position.push(position);
          ids.message.push(call.message_id);
        });
      });
      const fresh = await client.query(
        `insert into event_ids (workspace_id, message_id, request, position)
          select $1, * from unnest($2::text[], $3::bigint[], $4::integer[])
          on conflict do nothing returning request, position`,
        [workspace, ids.message, ids.request, ids.position],
      );
      // Which calls were new, by their place in this write.
      const first = new Map(rows.map((row, r) => [String(row.seq), r * REQUEST_SIZE]));
      const isNew = new Uint8Array(events.length);
      for (const row of fresh.rows) isNew[first.get(String(row.request)) + row.position] = 1;
      requests.forEach((calls, r) => {
        const firsts = new Map();
        calls.forEach((call, position) => {
          if (isNew[r * REQUEST_SIZE + position] === 0 || firsts.has(call.account_ref)) return;
          const at = Date.parse(call.timestamp);
          firsts.set(call.account_ref, [
            call.account_ref,
            Math.floor(at / DAY_MS),
            at,
            rows[r].seq,
            position,
          ]);
        });
        for (const entry of firsts.values()) state.entries.push(entry);
      });
    },
    async index(client, state) {
      const entries = state.entries.splice(0);
      const column = (k) => entries.map((entry) => entry[k]);
      await client.query(
        `insert into account_events select * from unnest($1::bigint[], $2::integer[],
          $3::bigint[], $4::bigint[], $5::integer[]) order by 1, 2, 3, 4, 5`,
        [0, 1, 2, 3, 4].map(column),
      );
    },
  },
];

/** CPU seconds a process has used, from /proc (utime + stime). */
function cpuOf(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks of 1/100 s
}

async function measure(layout, transactionSize) {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  const schema = `bench_events_${process.pid}`;
  await client.query(`create schema ${schema}`);
  await client.query(`set search_path to ${schema}`);
  try {
    for (const table of layout.tables) await client.query(table);
    const { rows } = await client.query('select pg_backend_pid() as pid');
    const backend = rows[0].pid;
    const state = { entries: [] };
    let elapsed = 0;
    let indexedAt = 0;
    const cpu = { backend: -cpuOf(backend), self: process.cpuUsage() };
    for (let i = 0; i < ROWS; i += transactionSize) {
      const end = Math.min(ROWS, i + transactionSize);
      const events = [];
      for (let j = i; j < end; j++) events.push(eventOf(j));
      const received = new Date().toISOString();
      const began = performance.now();
      await client.query('begin');
      await layout.write(client, events, received, state);
      await client.query('commit');
      if (layout.index && (end - indexedAt >= INDEX_EVERY || end === ROWS)) {
        await client.query('begin');
        await layout.index(client, state);
        await client.query('commit');
        indexedAt = end;
      }
      elapsed += performance.now() - began;
    }
    cpu.backend += cpuOf(backend);
    const self = process.cpuUsage(cpu.self);
    return {
      microseconds: (elapsed * 1000) / ROWS,
      backend: (cpu.backend * 1e6) / ROWS,
      // This process's CPU includes making the rows, which every layout shares.
      self: (self.user + self.system) / ROWS,
    };
  } finally {
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  }
}

try {
  const probe = new pg.Client({ connectionString: URL });
  await probe.connect();
  await probe.end();
} catch (error) {
  console.log(`skipping: PostgreSQL at ${URL} is not reachable (${error.message})`);
  process.exit(0);
}

console.log(
  `PostgreSQL events insert: ${ROWS.toLocaleString('en')} rows a layout, requests of ${REQUEST_SIZE}, ${ACCOUNTS.toLocaleString('en')} accounts; node ${process.versions.node}, ${os.cpus().length} cpu(s) (${os.cpus()[0]?.model.trim()})`,
);
const cell = 40;
const header = `${'layout'.padEnd(38)}${TRANSACTION_SIZES.map((size) => `${size.toLocaleString('en')} a transaction`.padStart(cell)).join('')}`;
console.log(header);
console.log('-'.repeat(header.length));
const baseline = {};
for (const layout of LAYOUTS) {
  const cells = [];
  for (const size of TRANSACTION_SIZES) {
    const { microseconds, backend, self } = await measure(layout, size);
    baseline[size] ??= microseconds;
    cells.push(
      `${microseconds.toFixed(1)} µs ${((baseline[size] / microseconds) * 100).toFixed(0)}% · cpu ${backend.toFixed(1)} + ${self.toFixed(1)}`.padStart(
        cell,
      ),
    );
  }
  console.log(`${layout.name.padEnd(38)}${cells.join('')}`);
}
console.log(
  "\nµs = wall time an event; % = events/s against the bare table in the same run and transaction size;\ncpu = µs of CPU an event: PostgreSQL's backend + this process (which also makes the rows)",
);
