// Ingestion benchmark: Segment-style `POST /v1/batch` over HTTP, on SQLite and PostgreSQL,
// against a bare ceiling measured in the same run. Runs the BUILT packages: `npm run build`.
//
//   npm run bench:ingest                         # both engines, 20 s measured per engine
//   BENCH_ENGINES=sqlite npm run bench:ingest
//   BENCH_SECONDS=300 npm run bench:ingest       # the flat-memory run
//   BENCH_CPU_PROF=1 npm run bench:ingest        # + the server's top self-time functions
//   BENCH_SERVER_DIST=packages/server/dist-b npm run bench:ingest
//                                                # another build of the server: a copy of `dist`
//                                                # beside it, to weigh two builds in turns (run to
//                                                # run, this machine's speed drifts by ±15%)
//
// Three processes per engine, so that no one's CPU or memory is counted as another's:
//   - this one, the load generator: BENCH_CONNECTIONS keep-alive connections, each posting
//     pre-built 100-event batches (~350 bytes an event) one after the other;
//   - a bare server (this file with `--serve bare`): the same Fastify options and JSON body
//     parser as the ingestion routes, a route that only parses the body and answers 200;
//   - the Waymark server (this file with `--serve waymark`): `buildServer` over a fresh
//     database, seeded with a workspace, a write key, a published program and enrolled accounts.
// The bare server is measured before and after the Waymark server, under the same load generator.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim());
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const BARE_SECONDS = Number(process.env.BENCH_BARE_SECONDS ?? Math.min(SECONDS, 10));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 2000);
const USERS_PER_ACCOUNT = 20;
const EVENTS_PER_BATCH = 100;
const ACCOUNTS_PER_BATCH = 10;
const TEMPLATES = Number(process.env.BENCH_TEMPLATES ?? 200);
const MARKERS_PER_SECOND = Number(process.env.BENCH_MARKERS_PER_SECOND ?? 20);
const POLL_MS = 10;
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_DRAIN_TIMEOUT_SECONDS ?? 120) * 1000;
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info'; // the server's default (LOG_LEVEL)
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const PG_URL =
  process.env.WAYMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/waymark_test';

const SELF = fileURLToPath(import.meta.url);
const SERVER_DIST = path.resolve(
  path.dirname(SELF),
  '..',
  process.env.BENCH_SERVER_DIST ?? 'packages/server/dist',
);
const serverRequire = createRequire(path.join(SERVER_DIST, 'index.js'));
// The server under test, its helpers and its packages all come from this one build.
const dist = (file) => import(path.join(SERVER_DIST, file));

/** The program every account is enrolled in; `setup` is what the latency markers complete. */
const PROGRAM = {
  key: 'bench-onboarding',
  name: 'Bench onboarding',
  phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 90 }],
  milestones: [
    {
      key: 'setup',
      title: 'Workspace set up',
      phase: 'all',
      targetDay: 7,
      verification: ['auto'],
      criteria: 'event_count("Setup Step", {"status": "ok"}) >= 3',
    },
    {
      key: 'activation',
      title: 'Team active',
      phase: 'all',
      targetDay: 21,
      dependsOn: ['setup'],
      verification: ['auto'],
      criteria: 'active_users(duration("168h")) >= 5',
    },
    {
      key: 'adoption',
      title: 'Reports in use',
      phase: 'all',
      targetDay: 45,
      dependsOn: ['activation'],
      verification: ['auto'],
      criteria: 'event_count("Report Viewed", duration("720h")) >= 5000',
    },
    {
      key: 'review',
      title: 'Business review',
      phase: 'all',
      targetDay: 60,
      dependsOn: ['adoption'],
      verification: ['csm'],
    },
  ],
};

// A line Pino writes: kept only at error level and above (printed), formatted all the same,
// so the server pays for its logs as in production and a tracking failure is still seen.
const logSink = {
  write(line) {
    if (line.includes('"level":50') || line.includes('"level":60')) process.stderr.write(line);
  },
};

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
/** The heaps a server's `mark` measured: its main thread's and its tracking thread's. */
const heaps = (m) => m.heapUsed + m.trackingHeapUsed;

// ================================================================================================
// Server children
// ================================================================================================

async function serveChild(kind, options) {
  const send = (message) => process.send?.(message);
  const samples = { peakRss: 0, peakHeap: 0, peakSinceMark: 0, window: null };
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage();
    samples.peakRss = Math.max(samples.peakRss, rss);
    samples.peakHeap = Math.max(samples.peakHeap, heapUsed);
    samples.peakSinceMark = Math.max(samples.peakSinceMark, rss);
    samples.window?.push(rss);
  };
  setInterval(sample, 250).unref();

  const { loggerOptions } = await dist('http/logging.js');
  let app;
  let database;
  let location = null;
  let markers = [];
  let seedMs = 0;
  if (kind === 'bare') {
    const Fastify = serverRequire('fastify');
    // The options buildServer gives Fastify, and the ingestion routes' body parser.
    app = Fastify({
      logger: { ...loggerOptions(LOG_LEVEL), stream: logSink },
      bodyLimit: 1024 * 1024,
      requestIdHeader: 'x-request-id',
      return503OnClosing: true,
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 512_000 }, (_r, body, done) => {
      try {
        done(null, JSON.parse(body));
      } catch (error) {
        done(error, undefined);
      }
    });
    app.post('/v1/batch', async () => ({ success: true }));
  } else {
    const { buildServer, migrateToLatest, openDatabase } = await dist('index.js');
    database = openDatabase(
      options.engine === 'sqlite'
        ? { WAYMARK_DATA_DIR: options.dataDir }
        : { DATABASE_URL: options.databaseUrl, WAYMARK_DATA_DIR: os.tmpdir() },
    );
    location = database.location;
    await migrateToLatest(database);
    const seedStart = performance.now();
    markers = await seed(database.db, options);
    seedMs = performance.now() - seedStart;
    app = await buildServer({ database, logLevel: LOG_LEVEL, logStream: logSink });
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  if (app.tracker) await app.tracker.settled();
  sample();

  let profiler = null;
  let loopDelay = null;
  process.on('message', async (message) => {
    const reply = (extra, then) => process.send?.({ id: message.id, ...extra }, then);
    switch (message.type) {
      case 'mark': {
        // Collected first, so that heap numbers compare live data, not garbage: the tracking
        // thread's heap (which that thread collects first), then this thread's.
        const tracking = (await app.tracker?.threadHeap()) ?? { used: 0, total: 0 };
        globalThis.gc?.();
        const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
        const peakSinceMark = Math.max(samples.peakSinceMark, rss);
        samples.peakSinceMark = rss;
        let eventLoop = null;
        // The largest RSS in each fifth of the window: a plateau, or a climb.
        let rssByFifth = null;
        if (message.profile === 'stop' && samples.window !== null) {
          const all = samples.window;
          rssByFifth = [0, 1, 2, 3, 4].map((i) =>
            Math.max(
              ...all.slice(Math.floor((i * all.length) / 5), Math.ceil(((i + 1) * all.length) / 5)),
            ),
          );
          samples.window = null;
        }
        if (message.profile === 'start') {
          samples.window = [];
          loopDelay = monitorEventLoopDelay({ resolution: 10 });
          loopDelay.enable();
        }
        if (message.profile === 'stop' && loopDelay !== null) {
          loopDelay.disable();
          // The histogram holds whole timer intervals: the delay is what exceeds the resolution.
          const ms = (ns) => Math.max(0, ns / 1e6 - 10);
          eventLoop = {
            p50: ms(loopDelay.percentile(50)),
            p99: ms(loopDelay.percentile(99)),
            max: ms(loopDelay.max),
          };
          loopDelay = null;
        }
        if (message.profile === 'start' && CPU_PROF && kind === 'waymark') {
          profiler = new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.setSamplingInterval', { interval: 1000 });
          await profiler.post('Profiler.start');
        }
        let profile = null;
        if (message.profile === 'stop' && profiler !== null) {
          const result = await profiler.post('Profiler.stop');
          profile = path.join(os.tmpdir(), `waymark-bench-ingest-${options.engine}.cpuprofile`);
          fs.writeFileSync(profile, JSON.stringify(result.profile));
          profiler.disconnect();
          profiler = null;
        }
        const { user, system } = process.cpuUsage();
        reply({
          pid: process.pid,
          threads: threadCpuMs(),
          rss,
          heapUsed,
          heapTotal,
          trackingHeapUsed: tracking.used,
          trackingHeapTotal: tracking.total,
          external,
          arrayBuffers,
          rssByFifth,
          peakSinceMark,
          profile,
          eventLoop,
          cpuMs: (user + system) / 1000,
        });
        break;
      }
      case 'threads':
        reply({ pid: process.pid, threads: threadCpuMs() });
        break;
      case 'settle': {
        const start = performance.now();
        await app.tracker?.settled();
        reply({ ms: performance.now() - start });
        break;
      }
      case 'stop': {
        sample();
        await app.close();
        await database?.close();
        reply({ peakRss: samples.peakRss, peakHeap: samples.peakHeap }, () => process.exit(0));
        break;
      }
    }
  });
  send({ type: 'ready', port: app.server.address().port, location, markers, seedMs });
}

/**
 * A workspace with a write key, the program published, and background plus marker accounts,
 * each enrolled with its milestones' progress and (empty) metrics: what enrolling does, and the
 * tracking's first rebuild of an enrollment without events. Bulk inserts, so seeding 10,000
 * accounts takes seconds.
 */
async function seed(db, { accounts, markerAccounts, writeKey }) {
  const { programDefinitionSchema, initialProgress, emptyMetricState } = await import(
    '@waymark/core'
  );
  const { definitionHash } = await dist('index.js');
  const { insertProgram, insertProgramVersion } = await dist('programs/programs.repo.js');
  const { newId } = await dist('db/ids.js');
  const { insertWorkspace } = await dist('workspaces/workspaces.repo.js');
  const { progressRow } = await dist('enrollments/progress.repo.js');
  const now = new Date().toISOString();
  const startedAt = new Date(Date.now() - 86_400_000).toISOString();
  const workspaceId = newId();
  await insertWorkspace(db, {
    id: workspaceId,
    slug: `bench-${workspaceId.slice(0, 8)}`,
    name: 'Bench',
    timeZone: 'UTC',
    settings: { atRiskAfterDays: 7, holidays: [], createAccountsFromGroups: false },
    createdAt: now,
    updatedAt: now,
  });
  // As api-keys.routes makes a write key: only the SHA-256 of the token is stored.
  await db
    .insertInto('api_keys')
    .values({
      id: newId(),
      workspace_id: workspaceId,
      kind: 'write',
      name: 'bench',
      role: null,
      prefix: writeKey.slice(0, 'wm_wk_'.length + 6),
      token_hash: createHash('sha256').update(writeKey).digest('hex'),
      created_by: null,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  const definition = programDefinitionSchema.parse(PROGRAM);
  const programId = newId();
  const versionId = newId();
  await insertProgram(db, {
    id: programId,
    workspaceId,
    key: definition.key,
    name: definition.name,
    createdAt: now,
    updatedAt: now,
  });
  await insertProgramVersion(db, {
    id: versionId,
    workspaceId,
    programId,
    version: 1,
    status: 'published',
    definition,
    definitionHash: definitionHash(definition),
    publishedAt: now,
    createdAt: now,
  });

  const externalIds = [
    ...Array.from({ length: accounts }, (_, i) => accountId(i)),
    ...Array.from({ length: markerAccounts }, (_, i) => markerId(i)),
  ];
  const rows = { accounts: [], enrollments: [], progress: [], metrics: [] };
  const markers = [];
  const emptyState = JSON.stringify(emptyMetricState());
  for (const externalId of externalIds) {
    const id = newId();
    const enrollmentId = newId();
    if (externalId.startsWith('mark_')) markers.push(enrollmentId);
    rows.accounts.push({
      id,
      workspace_id: workspaceId,
      external_id: externalId,
      name: `Customer ${externalId}`,
      segment: 'Mid-Market',
      owner_user_id: null,
      time_zone: null,
      traits: JSON.stringify({ plan: 'growth', seats: 25 }),
      outcome: null,
      created_at: now,
      updated_at: now,
    });
    rows.enrollments.push({
      id: enrollmentId,
      workspace_id: workspaceId,
      account_id: id,
      program_version_id: versionId,
      started_at: startedAt,
      go_live_date: null,
      owner_user_id: null,
      variant: null,
      status: 'active',
      created_at: now,
      updated_at: now,
    });
    for (const p of initialProgress(definition, startedAt, { segment: 'Mid-Market' })) {
      rows.progress.push(progressRow(workspaceId, enrollmentId, p, now));
    }
    rows.metrics.push({
      enrollment_id: enrollmentId,
      workspace_id: workspaceId,
      state: emptyState,
      rebuild_requested_at: null,
      updated_at: now,
    });
  }
  await db.transaction().execute(async (trx) => {
    for (const [table, values] of [
      ['accounts', rows.accounts],
      ['enrollments', rows.enrollments],
      ['milestone_progress', rows.progress],
      ['enrollment_metrics', rows.metrics],
    ]) {
      for (let i = 0; i < values.length; i += 500) {
        await trx
          .insertInto(table)
          .values(values.slice(i, i + 500))
          .execute();
      }
    }
  });
  return markers;
}

// ================================================================================================
// Bodies
// ================================================================================================

const accountId = (i) => `acct_${i.toString().padStart(6, '0')}`;
const markerId = (i) => `mark_${i.toString().padStart(6, '0')}`;
const PLACEHOLDER = '@@@@@@@@';

let seed32 = 42;
const random = () => {
  seed32 = (seed32 * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed32 / 2 ** 31;
};
const pick = (items) => items[Math.floor(random() * items.length)];
const EVENT_NAMES = [
  ...Array(30).fill('Report Viewed'),
  ...Array(25).fill('Dashboard Opened'),
  ...Array(20).fill('Contact Synced'),
  ...Array(10).fill('Export Created'),
  ...Array(10).fill('Setup Step'),
  ...Array(5).fill('Teammate Invited'),
];
const SOURCES = ['web', 'web', 'web', 'api', 'mobile'];
const PATHS = ['/reports', '/dashboard', '/contacts', '/settings/integrations', '/exports'];
const SENT_AT = '2026-11-24T10:00:00.000Z';
const SENT_AT_MS = Date.parse(SENT_AT);

/**
 * One track call of ~350 bytes as analytics-node sends it. `timestamp` is before the batch's
 * `sentAt`, so the server dates it `receivedAt − (sentAt − timestamp)`: current whenever sent.
 */
function trackEvent({ messageId, event, userId, groupId, msBefore, status }) {
  return {
    type: 'track',
    messageId,
    event,
    userId,
    timestamp: new Date(SENT_AT_MS - msBefore).toISOString(),
    context: {
      groupId,
      library: { name: 'analytics-node', version: '6.2.0' },
      ip: `10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.7`,
      page: { path: pick(PATHS) },
    },
    properties: {
      status: status ?? (random() < 0.8 ? 'ok' : 'error'),
      source: pick(SOURCES),
      durationMs: Math.floor(random() * 5000),
      itemId: `itm_${Math.floor(random() * 1e9).toString(36)}`,
    },
  };
}

/** 100 events from ACCOUNTS_PER_BATCH accounts, oldest first; `marker` adds 3 setup steps. */
function batchEvents(template, messageIdPrefix, marker = null) {
  const groups = Array.from({ length: ACCOUNTS_PER_BATCH }, () => Math.floor(random() * ACCOUNTS));
  const events = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const messageId = `${messageIdPrefix}-${template.toString(36)}-${i.toString(36)}`;
    const msBefore = (EVENTS_PER_BATCH - i) * 20;
    if (marker !== null && i % 33 === 32) {
      // 3 "Setup Step" ok (i = 32, 65, 98) by two users of a fresh account: the third completes `setup`.
      events.push(
        trackEvent({
          messageId,
          event: 'Setup Step',
          userId: `${marker}_u${i % 2}`,
          groupId: marker,
          msBefore,
          status: 'ok',
        }),
      );
      continue;
    }
    const group = accountId(pick(groups));
    const userId = `${group}_u${Math.floor(random() * USERS_PER_ACCOUNT)}`;
    const event = pick(EVENT_NAMES);
    // Background accounts never finish a setup step: the steady state, where completions are
    // rare (the markers' 20 a second) and nearly every event only updates metrics.
    const status = event === 'Setup Step' ? pick(['error', 'skipped']) : undefined;
    events.push(trackEvent({ messageId, event, userId, groupId: group, msBefore, status }));
  }
  return events;
}

/**
 * Pre-built bodies: each sent many times, with the 8 characters of PLACEHOLDER in every
 * messageId overwritten by a number unique to that send (so no event is a de-duplicated retry).
 */
function buildTemplates() {
  return Array.from({ length: TEMPLATES }, (_, t) => {
    const body = Buffer.from(
      JSON.stringify({ batch: batchEvents(t, PLACEHOLDER), sentAt: SENT_AT }),
      'latin1',
    );
    const offsets = [];
    for (let at = body.indexOf(PLACEHOLDER); at !== -1; at = body.indexOf(PLACEHOLDER, at + 1)) {
      offsets.push(at);
    }
    if (offsets.length !== EVENTS_PER_BATCH)
      throw new Error('placeholder not found in every event');
    return { body, offsets };
  });
}

// ================================================================================================
// Load
// ================================================================================================

function startChild(kind, options) {
  const child = fork(SELF, ['--serve', kind, JSON.stringify(options)], {
    // BENCH_NODE_ARGS: more Node options, e.g. `--cpu-prof` for a profile of every thread.
    execArgv: ['--expose-gc', ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  let nextId = 1;
  let ready;
  const readyPromise = new Promise((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`${kind} server exited (${code}) before ready`)));
  });
  child.on('message', (message) => {
    if (message.type === 'ready') ready(message);
    else waiting.get(message.id)?.resolve(message);
    waiting.delete(message.id);
  });
  child.once('exit', (code) => {
    for (const { reject } of waiting.values()) reject(new Error(`${kind} server exited (${code})`));
  });
  const ask = (message) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ ...message, id });
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, ready: readyPromise, ask, exited };
}

/**
 * CPU milliseconds each thread of this process has used so far, by thread id, read from /proc
 * (Linux; {} elsewhere): the main thread's id is the process's. The tracking thread and the
 * checkpointer are worker threads, told apart here only by how busy they are.
 */
function threadCpuMs() {
  const threads = {};
  try {
    const ticks = 1000 / 100; // ms a clock tick (USER_HZ)
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const fields = fs
        .readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
        .split(') ')[1]
        .split(' ');
      threads[tid] = (Number(fields[11]) + Number(fields[12])) * ticks;
    }
  } catch {
    // No /proc: the table says so.
  }
  return threads;
}

/**
 * The window's CPU of the server's main thread and of its two busiest other threads, in cores
 * and in µs an event: on SQLite, the thread that sets the pace is one of these.
 */
function threadShare(serverBefore, serverAfter, wallMs, events) {
  const { pid } = serverAfter;
  const used = (tid) => (serverAfter.threads[tid] ?? 0) - (serverBefore.threads[tid] ?? 0);
  const share = (tid) => ({ cores: used(tid) / wallMs, usPerEvent: (used(tid) * 1000) / events });
  const others = Object.keys(serverAfter.threads)
    .filter((tid) => Number(tid) !== pid)
    .sort((a, b) => used(b) - used(a))
    .slice(0, 2);
  return { main: share(String(pid)), others: others.map(share), busiest: others[0] };
}

/**
 * µs of CPU an event in each fifth of the window, of the main thread and of the busiest other
 * one (on SQLite, the tracking thread): a thread whose cost climbs as the database grows shows
 * here. `marks` are the thread readings at the window's start, its fifths and its end.
 */
function threadCostByFifth(marks, byFifth, busiest) {
  const { pid } = marks[0];
  const cost = (tid, i) =>
    (((marks[i + 1].threads[tid] ?? 0) - (marks[i].threads[tid] ?? 0)) * 1000) / byFifth[i];
  return byFifth.map((_, i) => ({ main: cost(String(pid), i), busiest: cost(busiest, i) }));
}

/** CPU milliseconds used so far: by this process, and by the whole machine (busy, all cores). */
function cpuSnapshot() {
  const { user, system } = process.cpuUsage();
  let busy = 0;
  for (const { times } of os.cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return { self: (user + system) / 1000, busy, at: performance.now() };
}

/** Where the window's CPU went, in cores: the server, this load generator, everything else. */
function cpuShare(before, after, serverBefore, serverAfter) {
  const wall = after.at - before.at;
  const server = (serverAfter.cpuMs - serverBefore.cpuMs) / wall;
  const loadgen = (after.self - before.self) / wall;
  const machine = (after.busy - before.busy) / wall;
  return { server, loadgen, other: Math.max(0, machine - server - loadgen), machine };
}

/**
 * Drives `/v1/batch` from CONNECTIONS keep-alive connections, one request in flight each, until
 * `seconds` after `warmup` seconds. Counts events of 2xx answers that arrive in the measured
 * window. `nextBody(scratch)` fills a connection's own buffer and says how long the body is.
 */
async function drive({
  port,
  writeKey,
  warmup,
  seconds,
  nextBody,
  onMeasureStart,
  onMeasureEnd,
  onAck,
  ask,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const authorization = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const stopAt = measureFrom + seconds * 1000;
  const counts = {
    events: 0,
    requests: 0,
    failures: 0,
    firstFailure: null,
    byFifth: [0, 0, 0, 0, 0],
  };
  let measuring = false;
  let cpuBefore = null;
  let serverBefore = null;
  // The server's thread readings at the end of each of the window's first four fifths.
  const fifthMarks = [];

  const post = (body) =>
    new Promise((resolve, reject) => {
      const request = http.request(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/batch',
          headers: {
            'content-type': 'application/json',
            'content-length': body.length,
            authorization,
          },
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString() }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });

  async function connection() {
    const scratch = Buffer.allocUnsafe(64 * 1024);
    while (performance.now() < stopAt) {
      const { length, events, marker } = nextBody(scratch);
      let response;
      try {
        response = await post(scratch.subarray(0, length));
      } catch (error) {
        response = { status: 0, text: error.message };
      }
      const now = performance.now();
      if (!measuring && now >= measureFrom) {
        measuring = true;
        serverBefore = await ask({ type: 'mark', profile: 'start' });
        cpuBefore = cpuSnapshot();
        for (let i = 1; i < 5; i++) {
          fifthMarks.push(
            sleep(measureFrom + (i * (stopAt - measureFrom)) / 5 - performance.now()).then(() =>
              ask({ type: 'threads' }),
            ),
          );
        }
        await onMeasureStart?.(serverBefore);
      }
      const counted = measuring && now < stopAt;
      // Which fifth of the measured window this answer came in, if in it.
      const fifth = counted
        ? Math.min(4, Math.floor(((now - measureFrom) / (stopAt - measureFrom)) * 5))
        : null;
      if (response.status >= 200 && response.status < 300) {
        if (fifth !== null) {
          counts.events += events;
          counts.requests++;
          counts.byFifth[fifth] += events;
        }
        if (marker !== null) onAck?.(marker, now, fifth);
      } else {
        counts.failures++;
        counts.firstFailure ??= `${response.status} ${response.text.slice(0, 300)}`;
      }
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  const cpuAfter = cpuSnapshot();
  await onMeasureEnd?.();
  const serverAfter = await ask({ type: 'mark', profile: 'stop' });
  agent.destroy();
  const threads = threadShare(serverBefore, serverAfter, cpuAfter.at - cpuBefore.at, counts.events);
  return {
    ...counts,
    measureFrom,
    eventsPerSecond: counts.events / seconds,
    cpu: cpuShare(cpuBefore, cpuAfter, serverBefore, serverAfter),
    threads,
    threadsByFifth: threadCostByFifth(
      [serverBefore, ...(await Promise.all(fifthMarks)), serverAfter],
      counts.byFifth,
      threads.busiest,
    ),
    start: serverBefore,
    end: serverAfter,
  };
}

/** The body source: templates in turn with unique messageIds, and a marker batch now and then. */
function bodies(templates, markerIds) {
  let sends = 0;
  let template = 0;
  let markersUsed = 0;
  let nextMarkerAt = performance.now();
  const markerEvery = MARKERS_PER_SECOND > 0 ? 1000 / MARKERS_PER_SECOND : Infinity;
  return {
    next(scratch) {
      const prefix = (sends++).toString(36).padStart(8, '0');
      const now = performance.now();
      if (markerIds !== null && now >= nextMarkerAt && markersUsed < markerIds.length) {
        nextMarkerAt += markerEvery;
        const index = markersUsed++;
        const json = JSON.stringify({
          batch: batchEvents(TEMPLATES + index, `m${prefix}`, markerId(index)),
          sentAt: SENT_AT,
        });
        const length = scratch.write(json, 0, 'latin1');
        return { length, events: EVENTS_PER_BATCH, marker: index };
      }
      const { body, offsets } = templates[template];
      template = (template + 1) % templates.length;
      body.copy(scratch, 0);
      for (const at of offsets) scratch.write(prefix, at, 'latin1');
      return { length: body.length, events: EVENTS_PER_BATCH, marker: null };
    },
    get markersUsed() {
      return markersUsed;
    },
  };
}

// ================================================================================================
// Completion latency: the 2xx of a batch holding a fresh account's 3rd "Setup Step" → this
// process first reading that account's `setup` milestone as completed, from its own database
// connection, polling every POLL_MS (so up to POLL_MS plus a query is added to each figure).
// ================================================================================================

async function completionWatcher(engine, where) {
  let query;
  let close;
  let readCursor;
  let writtenAt;
  if (engine === 'sqlite') {
    const { sqliteDriver } = await dist('db/sqlite.js');
    const file = new (sqliteDriver().Database)(where, { readonly: true, fileMustExist: true });
    const statements = new Map();
    query = async (ids) => {
      let statement = statements.get(ids.length);
      if (statement === undefined) {
        statement = file.prepare(
          `select enrollment_id from milestone_progress where milestone_key = 'setup' and status = 'completed' and enrollment_id in (${ids.map(() => '?').join(',')})`,
        );
        statements.set(ids.length, statement);
      }
      return statement.all(ids).map((row) => row.enrollment_id);
    };
    const writtenStatement = file.prepare(WRITTEN_AT);
    writtenAt = async (id) => writtenStatement.get(id)?.updated_at;
    const cursorStatement = file.prepare(CURSOR_AND_STORED);
    readCursor = async () => cursorStatement.get();
    close = async () => file.close();
  } else {
    const pg = serverRequire('pg');
    const client = new pg.Client({ connectionString: where });
    await client.connect();
    query = async (ids) =>
      (
        await client.query(
          `select enrollment_id from milestone_progress where milestone_key = 'setup' and status = 'completed' and enrollment_id = any($1)`,
          [ids],
        )
      ).rows.map((row) => row.enrollment_id);
    readCursor = async () => (await client.query(CURSOR_AND_STORED)).rows[0];
    writtenAt = async (id) =>
      (await client.query(WRITTEN_AT.replace('?', '$1'), [id])).rows[0]?.updated_at;
    close = () => client.end();
  }

  const pending = new Map(); // enrollment id → { ackAt, fifth }
  const latencies = [];
  /** Markers seen completed more than a second after their 2xx: what the p99 target allows. */
  const slow = [];
  const latenciesByFifth = [[], [], [], [], []];
  let acked = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sleep(POLL_MS);
      if (pending.size === 0) continue;
      const ids = [...pending.keys()];
      for (let i = 0; i < ids.length; i += 500) {
        const done = await query(ids.slice(i, i + 500));
        const seenAt = performance.now();
        for (const id of done) {
          const { ackAt, fifth } = pending.get(id);
          pending.delete(id);
          if (fifth !== null) {
            latencies.push(seenAt - ackAt);
            latenciesByFifth[fifth].push(seenAt - ackAt);
          }
          if (seenAt - ackAt > 1000) slow.push({ id, ackAt, ms: seenAt - ackAt });
        }
      }
    }
  })();
  return {
    /**
     * How many events the tracker has read and how many are stored, counted in batch order:
     * commit order on SQLite; on PostgreSQL insert order, which differs from commit order only
     * by the few batches in flight, so differences count events closely enough.
     */
    async cursor() {
      const row = await readCursor();
      return { cursor: Number(row.cursor), stored: Number(row.stored ?? 0), at: performance.now() };
    },
    /** A marker answered 2xx, and in which fifth of the window (null: outside it). */
    acked(enrollmentId, ackAt, fifth) {
      pending.set(enrollmentId, { ackAt, fifth });
      if (fifth !== null) acked++;
    },
    /** Waits until every acknowledged marker is seen completed, or the time runs out. */
    async finish(timeoutMs) {
      const until = performance.now() + timeoutMs;
      while (pending.size > 0 && performance.now() < until) await sleep(POLL_MS);
      stopped = true;
      await loop;
      // When the tracking wrote each slow marker's completion, from its 2xx: late there, or
      // late to be seen here.
      for (const marker of slow) {
        const written = await writtenAt(marker.id);
        marker.writtenAfterMs =
          written === undefined
            ? Number.NaN
            : new Date(written).getTime() - (performance.timeOrigin + marker.ackAt);
      }
      await close();
      const quantiles = (values) => {
        const sorted = values.sort((a, b) => a - b);
        const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
        return {
          p50: sorted.length ? at(0.5) : Number.NaN,
          p99: sorted.length ? at(0.99) : Number.NaN,
          max: sorted.length ? sorted.at(-1) : Number.NaN,
        };
      };
      return {
        acked,
        completed: latencies.length,
        missing: pending.size,
        ...quantiles(latencies),
        // A latency that climbs over a long run shows here first.
        byFifth: latenciesByFifth.map(quantiles),
        slow: slow.sort((a, b) => b.ms - a.ms),
      };
    },
  };
}

// ================================================================================================
// Engines
// ================================================================================================

async function prepareEngine(engine) {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-bench-ingest-'));
    return {
      options: { engine, dataDir: dir },
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const pg = serverRequire('pg');
  const schema = `bench_ingest_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  // Whether dead rows are cleared while it runs changes what long runs measure: say so.
  const {
    rows: [server],
  } = await admin.query(
    "select current_setting('server_version') as version, current_setting('autovacuum') as autovacuum",
  );
  await admin.end();
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema} -c TimeZone=UTC`);
  return {
    options: { engine, databaseUrl: url.toString() },
    about: `PostgreSQL ${server.version}, autovacuum ${server.autovacuum}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * The events up to the tracking's cursor and all those stored: an event's `seq` is its batch's
 * id × 2¹⁶ + its position there, so the cursor counts the batches before its own and its
 * position in it.
 */
const CURSOR_AND_STORED = `select
    (select coalesce(sum(size), 0) from event_batches where id < c.seq / 65536)
      + case when c.seq = 0 then 0 else c.seq % 65536 + 1 end as cursor,
    (select coalesce(sum(size), 0) from event_batches) as stored
  from tracking_cursor as c where c.name = 'events'`;

/** When the tracking wrote a marker's `setup` milestone (the server's time). */
const WRITTEN_AT = `select updated_at from milestone_progress
  where enrollment_id = ? and milestone_key = 'setup'`;

async function countStored(engine, where) {
  if (engine === 'sqlite') {
    const { sqliteDriver } = await dist('db/sqlite.js');
    const file = new (sqliteDriver().Database)(where, { readonly: true });
    const { n } = file.prepare('select coalesce(sum(size), 0) as n from event_batches').get();
    file.close();
    return Number(n);
  }
  const pg = serverRequire('pg');
  const client = new pg.Client({ connectionString: where });
  await client.connect();
  const { rows } = await client.query('select coalesce(sum(size), 0) as n from event_batches');
  await client.end();
  return Number(rows[0].n);
}

/** The top self-time functions and modules of a V8 CPU profile. */
function summarizeProfile(file) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byModule = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url.replace(/^file:\/\//, '');
    const module =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ??
      /packages\/([^/]+)\//.exec(where)?.[0].replace(/\/$/, '') ??
      (where.startsWith('node:') ? 'node (built-in JS)' : where === '' ? functionName : where);
    const name = `${functionName || '(anonymous)'} ${where ? `${path.basename(where)}:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const top = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `by module:\n${top(byModule, 12)}\nby function (self time):\n${top(byFunction, 25)}`;
}

async function runEngine(engine, templates) {
  const writeKey = `wm_wk_${randomBytes(32).toString('base64url')}`;

  // The ceiling: the same Fastify set-up, the same bodies, nothing behind the JSON parse. It is
  // measured before and after the server's run, whose ratio takes the mean of the two: a machine
  // whose speed drifts over minutes moves the two measures apart, not the ratio alone.
  const ceilingBefore = await measureCeiling(engine, writeKey, templates);
  const run = await runWaymark(engine, writeKey, templates);
  const ceilingAfter = await measureCeiling(engine, writeKey, templates);
  return {
    ...run,
    ceiling: ceilingBefore,
    ceilingAfter,
    ceilingPerSecond: (ceilingBefore.eventsPerSecond + ceilingAfter.eventsPerSecond) / 2,
  };
}

async function measureCeiling(engine, writeKey, templates) {
  const bare = startChild('bare', { engine });
  const { port: barePort } = await bare.ready;
  const ceiling = await drive({
    port: barePort,
    writeKey,
    warmup: Math.min(WARMUP_SECONDS, 2),
    seconds: BARE_SECONDS,
    nextBody: bodies(templates, null).next,
    ask: bare.ask,
  });
  await bare.ask({ type: 'stop' });
  await bare.exited;
  return ceiling;
}

async function runWaymark(engine, writeKey, templates) {
  const markerAccounts = Math.ceil((WARMUP_SECONDS + SECONDS) * MARKERS_PER_SECOND * 1.1) + 10;
  const prepared = await prepareEngine(engine);
  let server = null;
  try {
    server = startChild('waymark', {
      ...prepared.options,
      accounts: ACCOUNTS,
      markerAccounts,
      writeKey,
    });
    const ready = await server.ready;
    const where = engine === 'sqlite' ? ready.location : prepared.options.databaseUrl;
    const watcher = await completionWatcher(engine, where);
    const source = bodies(templates, ready.markers);
    const loaded = await server.ask({ type: 'mark' });
    let cursorStart = null;
    let cursorEnd = null;
    const result = await drive({
      port: ready.port,
      writeKey,
      warmup: WARMUP_SECONDS,
      seconds: SECONDS,
      nextBody: source.next,
      onMeasureStart: async () => {
        cursorStart = await watcher.cursor();
      },
      onMeasureEnd: async () => {
        cursorEnd = await watcher.cursor();
      },
      onAck: (marker, at, fifth) => watcher.acked(ready.markers[marker], at, fifth),
      ask: server.ask,
    });
    const { start, end } = result;
    const drain = await server.ask({ type: 'settle' });
    const latency = await watcher.finish(DRAIN_TIMEOUT_MS);
    const stored = await countStored(engine, where);
    const settled = await server.ask({ type: 'mark' });
    const stats = await server.ask({ type: 'stop' });
    await server.exited;
    return {
      engine,
      result,
      latency,
      drainMs: drain.ms,
      trackedPerSecond:
        ((cursorEnd.cursor - cursorStart.cursor) / (cursorEnd.at - cursorStart.at)) * 1000,
      backlog: cursorEnd.stored - cursorEnd.cursor,
      stored,
      seedMs: ready.seedMs,
      about: prepared.about,
      memory: {
        loaded,
        start,
        end,
        settled,
        peakRss: stats.peakRss,
        peakDuringLoad: Math.max(start.peakSinceMark, end.peakSinceMark, settled.peakSinceMark),
      },
      profile: end.profile,
    };
  } finally {
    // A server left running by a failure would keep this process (and the schema) alive.
    if (server !== null && server.child.exitCode === null) {
      server.child.kill();
      await server.exited;
    }
    await prepared.drop();
  }
}

async function main() {
  const templates = buildTemplates();
  const bodyBytes = templates.reduce((sum, t) => sum + t.body.length, 0) / templates.length;
  console.log(
    `\ningestion, POST /v1/batch: ${EVENTS_PER_BATCH} track events a batch (~${Math.round(bodyBytes / EVENTS_PER_BATCH)} bytes each, ` +
      `${(bodyBytes / 1024).toFixed(0)} KB a body), ${ACCOUNTS.toLocaleString('en')} accounts × ${USERS_PER_ACCOUNT} users, ` +
      `${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured (bare: ${BARE_SECONDS} s), ` +
      `${MARKERS_PER_SECOND} latency markers/s\n` +
      `node ${process.version}, ${os.cpus().length} cpu(s) (${os.cpus()[0]?.model.trim()}), ` +
      `${mb(os.totalmem())} RAM, server log level ${LOG_LEVEL}, ` +
      `server build ${path.relative(path.resolve(path.dirname(SELF), '..'), SERVER_DIST)}\n`,
  );
  const results = [];
  for (const engine of ENGINES) {
    try {
      console.error(`${engine}: running…`);
      results.push(await runEngine(engine, templates));
    } catch (error) {
      console.error(`skipping ${engine}: ${error.stack ?? error.message}`);
    }
  }

  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  const num = (n) => Math.round(n).toLocaleString('en');
  const ms = (n) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(0)} ms`);
  console.log(
    `${pad('engine', 9)}${lpad('events/s', 10)}${lpad('bare ev/s', 11)}${lpad('ratio', 7)}${lpad('tracked/s', 11)}` +
      `${lpad('p50', 10)}${lpad('p99', 10)}${lpad('markers', 11)}${lpad('drain', 9)}` +
      `${lpad('peak RSS', 10)}${lpad('RSS 1st→5th', 16)}${lpad('heap start→end', 16)}`,
  );
  console.log('-'.repeat(130));
  for (const r of results) {
    const { memory: m, latency: l } = r;
    console.log(
      `${pad(r.engine, 9)}${lpad(num(r.result.eventsPerSecond), 10)}${lpad(num(r.ceilingPerSecond), 11)}` +
        `${lpad(`${((r.result.eventsPerSecond / r.ceilingPerSecond) * 100).toFixed(0)}%`, 7)}` +
        `${lpad(num(r.trackedPerSecond), 11)}` +
        `${lpad(ms(l.p50), 10)}${lpad(ms(l.p99), 10)}${lpad(`${l.completed}/${l.acked}`, 11)}` +
        `${lpad(`${(r.drainMs / 1000).toFixed(1)} s`, 9)}${lpad(mb(m.peakDuringLoad), 10)}` +
        `${lpad(`${mb(m.end.rssByFifth[0])}→${mb(m.end.rssByFifth[4])}`, 16)}` +
        `${lpad(`${mb(heaps(m.start))}→${mb(heaps(m.end))}`, 16)}`,
    );
  }
  console.log(
    [
      '',
      'events/s     events in 2xx answers during the measured window',
      'bare ev/s    the same load against Fastify with only the JSON body parser, measured before and',
      '             after the Waymark server (the mean of the two); ratio = events/s ÷ bare',
      'tracked/s    events the tracker read (cursor advance) during the window',
      'p50, p99     a batch holding a fresh account\'s 3rd "Setup Step" answered 2xx → its `setup`',
      '             milestone read as completed from another connection, polled every 10 ms',
      'markers      markers seen completed / markers acknowledged in the window',
      'drain        after the load stops, until the tracker has read every stored event',
      'peak RSS     the server process, sampled every 250 ms over warm-up, window and drain',
      "RSS 1st→5th  the server's largest RSS in the first and in the last fifth of the window",
      "heap         the server's heaps used (its main thread's and its tracking thread's) after a forced",
      '             GC at the start and at the end of the window',
      'cpu, cores   CPU time ÷ wall time over the window: the server, the load generator, and the rest',
      '             of the machine (PostgreSQL, the kernel, and anything else running: check it is idle)',
    ].join('\n'),
  );
  for (const r of results) {
    const problems = [];
    const bareFailures = r.ceiling.failures + r.ceilingAfter.failures;
    if (r.result.failures + bareFailures > 0) {
      problems.push(
        `${r.result.failures} failed requests (bare: ${bareFailures}); first: ${r.result.firstFailure ?? r.ceiling.firstFailure ?? r.ceilingAfter.firstFailure}`,
      );
    }
    if (r.latency.missing > 0) {
      problems.push(
        `${r.latency.missing} markers not completed ${DRAIN_TIMEOUT_MS / 1000} s after the load`,
      );
    }
    console.log(
      `\n${r.engine}${r.about ? ` (${r.about})` : ''}: seeded ${ACCOUNTS.toLocaleString('en')} accounts + markers in ${(r.seedMs / 1000).toFixed(1)} s; ` +
        `${num(r.stored)} events stored in all; ${num(r.result.requests)} batches in the window; ` +
        `tracker ${num(r.backlog)} events behind when the load stopped; ` +
        `latency max ${ms(r.latency.max)}; bare ${num(r.ceiling.eventsPerSecond)} events/s before, ` +
        `${num(r.ceilingAfter.eventsPerSecond)} after; RSS after GC once settled ${mb(r.memory.settled.rss)} ` +
        `(heaps ${mb(heaps(r.memory.settled))}), idle before load ${mb(r.memory.loaded.rss)}` +
        (problems.length ? `\n  ${problems.join('\n  ')}` : ''),
    );
    const cores = (c) =>
      `server ${c.server.toFixed(2)}, load generator ${c.loadgen.toFixed(2)}, other ${c.other.toFixed(2)} (busy ${c.machine.toFixed(2)} of ${os.cpus().length})`;
    console.log(`  cpu, cores: ${cores(r.result.cpu)}; bare (before): ${cores(r.ceiling.cpu)}`);
    const thread = ({ cores, usPerEvent }) => `${cores.toFixed(2)} (${usPerEvent.toFixed(1)} µs)`;
    const { main, others } = r.result.threads;
    console.log(
      `  server threads, cores (CPU an event): main ${thread(main)}; busiest others ${others.map(thread).join(', ')}`,
    );
    console.log(
      `  CPU an event in each fifth of the window, main · busiest other thread: ${r.result.threadsByFifth.map((f) => `${f.main.toFixed(1)} · ${f.busiest.toFixed(1)} µs`).join(', ')}`,
    );
    const memory = (m) =>
      `rss ${mb(m.rss)}, heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)}, tracking thread's ${mb(m.trackingHeapUsed)} of ${mb(m.trackingHeapTotal)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)})`;
    console.log(`  server memory after GC, start: ${memory(r.memory.start)}`);
    console.log(`                            end: ${memory(r.memory.end)}`);
    console.log(
      `  server RSS, largest in each fifth of the window: ${r.memory.end.rssByFifth.map(mb).join(', ')}`,
    );
    console.log(
      `  events/s in each fifth of the window: ${r.result.byFifth.map((n) => num(n / (SECONDS / 5))).join(', ')}`,
    );
    console.log(
      `  p50 / p99 to completion in each fifth of the window: ${r.latency.byFifth.map((f) => `${f.p50.toFixed(0)} / ${f.p99.toFixed(0)} ms`).join(', ')}`,
    );
    if (r.latency.slow.length > 0) {
      console.log(
        `  markers seen completed over 1 s after their 2xx: ${r.latency.slow.length}; the slowest: ${r.latency.slow
          .slice(0, 5)
          .map(
            (m) =>
              `${ms(m.ms)} (2xx at ${((m.ackAt - r.result.measureFrom) / 1000).toFixed(1)} s, completion written ${ms(m.writtenAfterMs)} after it)`,
          )
          .join(', ')}`,
      );
    }
    const loop = (l) =>
      `p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${l.max.toFixed(0)} ms`;
    console.log(
      `  server event-loop delay: ${loop(r.result.end.eventLoop)}; bare (before): ${loop(r.ceiling.end.eventLoop)}`,
    );
    if (r.profile)
      console.log(
        `\n${r.engine} server CPU profile (${r.profile}):\n${summarizeProfile(r.profile)}`,
      );
  }
}

if (process.argv[2] === '--serve') {
  await serveChild(process.argv[3], JSON.parse(process.argv[4]));
} else {
  await main();
}
