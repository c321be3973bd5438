// What the events table's indexes cost SQLite per stored event: the same rows (~360-byte
// payloads, 2,000 accounts, 10 in each 100 rows as in a request of `bench:ingest`, random
// message ids as RudderStack's libraries make them; Segment's analytics-node puts the time
// first, in one layout) inserted through one cached prepared statement, in transactions of a
// group commit's size, against the bare table as the baseline measured in the same run. It tells
// which layout can reach a throughput target before the server is changed (docs/decisions/0009-event-store-throughput.md; a row a request
// instead of a row an event: 0018).
//
//   npm run bench:sqlite-events                      # 300,000 rows a layout
//   BENCH_ROWS=1000000 npm run bench:sqlite-events
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACCOUNTS, eventOf, payload, serverRequire, workspace } from './event-rows.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 300_000);
const TRANSACTION_SIZES = [1_600, 6_400]; // 16 and 64 connections' batches of 100 events

const Database = serverRequire(
  Number(process.versions.node.split('.')[0]) >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3',
);

const TABLE = `create table events (
  seq integer primary key autoincrement, txid integer not null default 0, message_hash integer,
  workspace_id text not null, message_id text not null, type text not null, event text,
  account_key text, user_id text, anonymous_id text, timestamp text not null,
  received_at text not null, payload text not null, account_ref integer)`;

/** A row a request, and entries that say where each call is (decision 0018). */
const REQUEST_TABLES = [
  `create table event_batches (id integer primary key, workspace_id text not null,
    received_at text not null, calls blob not null)`,
  `create table event_ids (workspace_id text not null, message_id text not null,
    batch integer not null, position integer not null,
    primary key (workspace_id, message_id)) without rowid`,
  `create table account_events (account_ref integer not null, day integer not null,
    at integer not null, batch integer not null, position integer not null,
    primary key (account_ref, day, at, batch, position)) without rowid`,
];

const LAYOUTS = [
  { name: 'no index (baseline)', indexes: [] },
  {
    name: 'account index',
    indexes: ['create index events_account_time on events (workspace_id, account_key, timestamp)'],
  },
  {
    name: 'message index',
    indexes: ['create unique index events_message on events (workspace_id, message_id)'],
  },
  {
    name: 'both (decision 0010)',
    indexes: [
      'create unique index events_message on events (workspace_id, message_id)',
      'create index events_account_time on events (workspace_id, account_key, timestamp)',
    ],
  },
  {
    // analytics-node's ids, `node-next-<ms>-<uuid>`: new keys land at the end of the index.
    name: "both, Segment's time-first ids",
    segmentIds: true,
    indexes: [
      'create unique index events_message on events (workspace_id, message_id)',
      'create index events_account_time on events (workspace_id, account_key, timestamp)',
    ],
  },
  {
    name: 'message index, time-first ids',
    segmentIds: true,
    indexes: ['create unique index events_message on events (workspace_id, message_id)'],
  },
  {
    // The server since decision 0011: the account index is a table of its own, which the
    // tracker brings up to date in bulk (about every 2 s, here every 64,000 rows).
    name: 'the same + account table in bulk',
    segmentIds: true,
    accountsInBulk: 64_000,
    indexes: [
      'create unique index events_message on events (workspace_id, message_id)',
      `create table account_events (workspace_id text not null, account_key text not null,
        timestamp text not null, seq integer not null,
        primary key (workspace_id, account_key, timestamp, seq)) without rowid`,
    ],
  },
  {
    // The server since decision 0017: the account index keyed by integers (each event's
    // account ref, its time in ms), in bulk from the events.
    name: 'the same, index keyed by refs',
    segmentIds: true,
    accountsInBulk: 64_000,
    refs: true,
    indexes: [
      'create unique index events_message on events (workspace_id, message_id)',
      `create table account_events (account_ref integer not null, day integer not null,
        at integer not null, seq integer not null,
        primary key (account_ref, day, at, seq)) without rowid`,
    ],
  },
  {
    // No row an event: each request's calls as one row (their texts as sent, one after the
    // other), and an event only as its de-duplication entry, which says where its call is, and
    // its account index entry, written in bulk from the events at hand (decision 0018).
    name: 'a row a request, entries only',
    segmentIds: true,
    batches: 100,
    accountsInBulk: 64_000,
    indexes: REQUEST_TABLES,
  },
  {
    // The same, with an account's entry for each request that holds its events (its first day
    // and time there) instead of one for each event: readers would read the request's row.
    name: 'a row a request, entries by account',
    segmentIds: true,
    batches: 100,
    accountsInBulk: 64_000,
    byAccount: true,
    indexes: REQUEST_TABLES,
  },
  {
    // What the server ran before decision 0010's single-row inserts: 90 rows a statement,
    // returning each new row's seq (SQLite builds the values list as a table first).
    name: 'both, 90 rows a statement',
    multiRow: 90,
    indexes: [
      'create unique index events_message on events (workspace_id, message_id)',
      'create index events_account_time on events (workspace_id, account_key, timestamp)',
    ],
  },
  {
    name: '64-bit message hash + account',
    hashed: true,
    indexes: [
      'create unique index events_message on events (message_hash)',
      'create index events_account_time on events (workspace_id, account_key, timestamp)',
    ],
  },
  {
    // A plain index on the hash, the text compared where a hash is found: exact, so two keys
    // that share a hash are both kept (what the server would need; decision 0010).
    name: 'hash looked up + account',
    hashed: true,
    lookedUp: true,
    indexes: [
      'create index events_message on events (message_hash)',
      'create index events_account_time on events (workspace_id, account_key, timestamp)',
    ],
  },
];

const COLUMNS = `message_hash, workspace_id, message_id, type, event, account_key, user_id,
  anonymous_id, timestamp, received_at, payload, account_ref`;
const INSERT = `insert into events (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  on conflict do nothing`;
const LOOKED_UP_INSERT = `insert into events (${COLUMNS})
  select * from (values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) as v
  where not exists (select 1 from events as e
    where e.message_hash = v.column1 and e.workspace_id = v.column2 and e.message_id = v.column3)`;

function row(i, { hashed, segmentIds }) {
  const event = eventOf(i, { segmentIds: Boolean(segmentIds) });
  const values = [
    workspace,
    event.message_id,
    'track',
    'Report Viewed',
    event.account_key,
    event.user_id,
    null,
    event.timestamp,
    event.timestamp,
    payload,
    event.account_ref,
  ];
  if (!hashed) return [null, ...values];
  const hash = createHash('sha1').update(workspace).update('\0').update(event.message_id).digest();
  return [hash.readBigInt64BE(0), ...values];
}

/** Inserts `size` rows a statement, returning their seqs, the rest in one shorter statement. */
function multiRowWrite(db, size) {
  const statements = new Map();
  const statement = (rows) => {
    let prepared = statements.get(rows);
    if (prepared === undefined) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      prepared = db.prepare(
        `insert into events (${COLUMNS}) values ${values.join(', ')}
          on conflict do nothing returning seq`,
      );
      statements.set(rows, prepared);
    }
    return prepared;
  };
  return db.transaction((rows) => {
    for (let i = 0; i < rows.length; i += size) {
      const part = rows.slice(i, i + size);
      statement(part.length).all(part.flat());
    }
  });
}

/**
 * Writes each `size` rows as one row of their calls and an entry a call; keeps the account
 * index entries of what it wrote, to be inserted in bulk, in the index's order.
 */
function batchWrite(db, size, byAccount) {
  const insertBatch = db.prepare(
    'insert into event_batches (workspace_id, received_at, calls) values (?, ?, ?)',
  );
  const insertId = db.prepare('insert into event_ids values (?, ?, ?, ?) on conflict do nothing');
  const insertEntry = db.prepare('insert into account_events values (?, ?, ?, ?, ?)');
  let entries = [];
  const write = db.transaction((rows) => {
    for (let i = 0; i < rows.length; i += size) {
      const part = rows.slice(i, i + size);
      const calls = Buffer.from(part.map((values) => values[10]).join(''));
      const batch = insertBatch.run(workspace, part[0][9], calls).lastInsertRowid;
      // An entry for each new event, or for each account's first new event.
      const firsts = new Map();
      part.forEach((values, position) => {
        if (insertId.run(workspace, values[2], batch, position).changes === 0) return;
        const key = byAccount ? values[11] : position;
        if (firsts.has(key)) return;
        const at = Date.parse(values[8]);
        firsts.set(key, [values[11], Math.floor(at / 86_400_000), at, batch, position]);
      });
      entries.push(...firsts.values());
    }
  });
  const index = db.transaction(() => {
    entries.sort((a, b) => {
      for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
      return 0;
    });
    for (const entry of entries) insertEntry.run(entry);
    entries = [];
  });
  return { write, index };
}

function measure(layout, transactionSize) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-events-'));
  const db = new Database(path.join(dir, 'events.db'));
  // The server's settings, with the checkpoints left to another thread as the server does.
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  db.defaultSafeIntegers(true);
  db.exec(TABLE);
  for (const index of layout.indexes) db.exec(index);
  const insert = db.prepare(layout.lookedUp ? LOOKED_UP_INSERT : INSERT);
  const batched = layout.batches && batchWrite(db, layout.batches, layout.byAccount);
  const write = batched
    ? batched.write
    : layout.multiRow
      ? multiRowWrite(db, layout.multiRow)
      : db.transaction((rows) => {
          for (const values of rows) insert.run(values);
        });
  const indexAccounts = batched
    ? batched.index
    : layout.accountsInBulk &&
      db.transaction((after) =>
        db
          .prepare(
            layout.refs
              ? `insert into account_events select account_ref, at / 86400000, at, seq from (
                select account_ref, cast(round(unixepoch(timestamp, 'subsec') * 1000) as integer)
                  as at, seq from events where seq > ? and account_ref is not null)
              order by 1, 2, 3, 4`
              : `insert into account_events
                select workspace_id, account_key, timestamp, seq from events
                where seq > ? and account_key is not null order by 1, 2, 3, 4`,
          )
          .run(after),
      );
  let elapsed = 0;
  let indexed = 0;
  for (let i = 0; i < ROWS; i += transactionSize) {
    const rows = [];
    const end = Math.min(ROWS, i + transactionSize);
    for (let j = i; j < end; j++) rows.push(row(j, layout));
    const began = performance.now();
    write(rows);
    if (indexAccounts && (end - indexed >= layout.accountsInBulk || end === ROWS)) {
      indexAccounts(indexed);
      indexed = end;
    }
    elapsed += performance.now() - began;
  }
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { perSecond: (ROWS / elapsed) * 1000, microseconds: (elapsed * 1000) / ROWS };
}

console.log(
  `SQLite events insert: ${ROWS.toLocaleString('en')} rows a layout, ${ACCOUNTS.toLocaleString('en')} accounts; node ${process.versions.node}, ${os.cpus().length} cpu(s) (${os.cpus()[0]?.model.trim()})`,
);
const header = `${'layout'.padEnd(32)}${TRANSACTION_SIZES.map((size) => `${`${size.toLocaleString('en')} a transaction`.padStart(34)}`).join('')}`;
console.log(header);
console.log('-'.repeat(header.length));
const baseline = {};
for (const layout of LAYOUTS) {
  const cells = TRANSACTION_SIZES.map((size) => {
    const { perSecond, microseconds } = measure(layout, size);
    baseline[size] ??= perSecond;
    return `${Math.round(perSecond).toLocaleString('en')} rows/s ${microseconds.toFixed(1)} µs ${((perSecond / baseline[size]) * 100).toFixed(0)}%`.padStart(
      34,
    );
  });
  console.log(`${layout.name.padEnd(32)}${cells.join('')}`);
}
console.log('\n% = rows/s against the bare table in the same run and transaction size');
