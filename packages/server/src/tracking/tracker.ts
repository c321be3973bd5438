import {
  advanceEnrollment,
  changesWithTime,
  emptyMetricState,
  type MetricState,
  type MetricValue,
  type MilestoneProgress,
  metricStateOf,
  type ProgramDefinition,
  type StoredMetricState,
  type TrackedActivity,
  type TrackedProgram,
  trackProgram,
} from '@waymark/core';
import type { FastifyBaseLogger } from 'fastify';
import { CompiledQuery } from 'kysely';
import type { Account } from '../accounts/accounts.repo.js';
import type { Clock } from '../auth/clock.js';
import { fromDbJson } from '../db/codec.js';
import type { Database, Db } from '../db/database.js';
import { withDeferredWrites } from '../db/sqlite.js';
import { listProgressOfEnrollments } from '../enrollments/progress.repo.js';
import { recordProgressChanges } from '../enrollments/record-progress-changes.js';
import { accountEventsUpTo, indexAccountEvents } from './account-index.repo.js';
import { createAccountsFromGroups } from './accounts-from-groups.js';
import { activityOf, type CommittedEvents, TRACKED_TYPES } from './activities.js';
import {
  committedExactly,
  type EventCursor,
  eventsAfter,
  inTimeOrder,
  lastStoredEvent,
  passed,
  peekCursor,
  readCursor,
  type StoredEvent,
  writeCursor,
} from './events.repo.js';
import {
  accountsByExternalId,
  activeEnrollmentsOf,
  claimRebuilds,
  findTrackedEnrollment,
  metricsOf,
  rebuildsRequested,
  requestRebuild,
  type StoredMetrics,
  saveMetrics,
  type TrackedEnrollment,
  updateAccountTraits,
} from './tracking.repo.js';

const SWEEP_MS = 3_600_000;
/** How often, under a steady stream of events, the metrics and the cursor are written. */
const CHECKPOINT_MS = 1000;
/**
 * How often, at most, the account index is brought up to where the tracking has read: the more
 * events each run indexes, the fewer times each page of the index is written.
 */
const INDEX_MS = 2000;
/**
 * Enrollments whose metrics stay in memory between checkpoints (and accounts, enrollments and
 * progress between chunks), at most: past it, those kept longest are dropped, and read again
 * when next needed.
 */
const MAX_KEPT = 20_000;
/**
 * Enrollments and accounts with no event for this long (up to twice as long) are dropped from
 * memory too: what the tracking keeps follows the accounts active now, not every account seen
 * since it started. One that comes back is read again, as after MAX_KEPT.
 */
const KEEP_IDLE_MS = 30_000;
/** Events handed over by the ingestion and not yet tracked, beyond which they are read back. */
const MAX_HANDED_EVENTS = 50_000;
/** Chunks computed in vain in a row (their inputs changed), after which one holds the lock. */
const MAX_OPTIMISTIC_TRIES = 3;
/**
 * Events read per transaction, at most. Where the tracking holds a lock while it works
 * (PostgreSQL) it keeps no inputs between chunks and reads them for each: larger chunks, taken
 * only when it is behind, read them once for more events (p99 to completion 580–630 against
 * 1,030–1,120 ms at 27,000–30,000 events/s, measured).
 */
const CHUNK_SIZE = { optimistic: 5000, locked: 15_000 };

export interface TrackerOptions {
  database: Pick<Database, 'db' | 'dialect'>;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Events read per transaction, at most (see CHUNK_SIZE). */
  chunkSize?: number;
  /** How often to look for events other processes stored, in ms. */
  pollMs?: number;
  /** Enrollments and accounts kept in memory, at most (see MAX_KEPT). */
  maxKept?: number;
  /** How long an enrollment or account with no event stays in memory, at least (see KEEP_IDLE_MS). */
  keepIdleMs?: number;
}

/**
 * Follows the stored events in commit order and keeps every active enrollment's metrics and
 * automatic milestones up to date, one transaction per chunk.
 *
 * Completions are written with their chunk. The metrics and the cursor are kept in memory and
 * written together at a checkpoint: every CHECKPOINT_MS while events arrive (the poll writes
 * what is left once they stop), and at once for `settled()` and `stop()`. A crash loses only what followed the last checkpoint: those events are tracked again
 * from the metrics stored with the cursor, and a milestone they complete again is already
 * completed, so nothing is counted or completed twice. Events the ingestion hands over right
 * after their commit are tracked without being read back.
 *
 * The tracker also keeps the account index (`account_events`) in bulk, up to where it has read:
 * every INDEX_MS under load, in a transaction of its own, and when it stops.
 */
export function createTracker({
  database: { db, dialect },
  clock,
  log,
  chunkSize = dialect.capabilities.optimisticTracking ? CHUNK_SIZE.optimistic : CHUNK_SIZE.locked,
  pollMs = 1000,
  maxKept = MAX_KEPT,
  keepIdleMs = KEEP_IDLE_MS,
}: TrackerOptions) {
  const programs = new Map<string, TrackedProgram>();
  let running: Promise<void> | null = null;
  let again = false;
  let failed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let sweepTimer: NodeJS.Timeout | null = null;
  const idleWaiters: (() => void)[] = [];
  const sweepWaiters: { resolve(evaluated: number): void; reject(error: unknown): void }[] = [];

  // Where this tracker has read to, and the cursor as stored when it last wrote or read it.
  let position: EventCursor | null = null;
  let stored: EventCursor | null = null;
  // Metrics as of `position`; `dirty` ones moved since the last checkpoint.
  const metrics = new Map<string, { workspaceId: string; state: MetricState }>();
  const dirty = new Set<string>();
  let checkpointedAt = 0;
  // Where this tracker last brought the account index, and when.
  let indexedTo: EventCursor | null = null;
  let indexedAt = Number.NEGATIVE_INFINITY;
  let indexing: Promise<void> | null = null;
  const handed: CommittedEvents[] = [];
  // Commits whose events are on their way to `handOver`: between a commit and its hand-over the
  // events are in the database already, and reading them back costs more than waiting for them.
  let handsOnTheWay = 0;
  let handedCount = 0;
  // What chunks read besides events and metrics, kept from one chunk to the next while nothing
  // else changes it: `version` is the `tracking_version` this tracker's last chunk left (SQLite
  // only; null otherwise). A chunk's own writes are applied here as it makes them.
  const inputs = {
    version: null as string | null,
    /** By workspace, then by external id. */
    accounts: new Map<string, Map<string, Account>>(),
    accountCount: 0,
    /** Active enrollments, by account id. */
    enrollments: new Map<string, TrackedEnrollment[]>(),
    progress: new Map<string, MilestoneProgress[]>(),
    /** Enrollments whose metrics were read with no rebuild requested. */
    clearFlags: new Set<string>(),
  };
  function keepAccount(workspaceId: string, account: Account): void {
    let kept = inputs.accounts.get(workspaceId);
    if (kept === undefined) {
      kept = new Map();
      inputs.accounts.set(workspaceId, kept);
    }
    if (!kept.has(account.externalId)) inputs.accountCount += 1;
    kept.set(account.externalId, account);
  }

  /** Drops the accounts kept beyond `maxKept`, those kept longest in each workspace first. */
  function dropOldestAccounts(): void {
    for (const [workspaceId, kept] of inputs.accounts) {
      const excess = inputs.accountCount - maxKept;
      if (excess <= 0) return;
      const dropped = Math.min(excess, kept.size);
      dropOldest(kept, kept.size - dropped);
      inputs.accountCount -= dropped;
      if (kept.size === 0) inputs.accounts.delete(workspaceId);
    }
  }

  // Accounts and enrollments that had events since the idle ones were last dropped, and when.
  const active = { accounts: new Set<string>(), enrollments: new Set<string>() };
  let idleDroppedAt = performance.now();

  /**
   * Every `keepIdleMs`, drops the metrics and inputs of those with no event since; at a
   * checkpoint, when every metric kept is written.
   */
  function dropIdle(): void {
    if (performance.now() - idleDroppedAt < keepIdleMs) return;
    idleDroppedAt = performance.now();
    for (const [workspaceId, kept] of inputs.accounts) {
      for (const [externalId, account] of kept) {
        if (active.accounts.has(account.id)) continue;
        kept.delete(externalId);
        inputs.accountCount -= 1;
      }
      if (kept.size === 0) inputs.accounts.delete(workspaceId);
    }
    for (const accountId of inputs.enrollments.keys()) {
      if (!active.accounts.has(accountId)) inputs.enrollments.delete(accountId);
    }
    for (const kept of [inputs.progress, inputs.clearFlags, metrics]) {
      for (const id of kept.keys()) {
        if (!active.enrollments.has(id)) kept.delete(id);
      }
    }
    active.accounts.clear();
    active.enrollments.clear();
  }

  function forgetInputs(): void {
    inputs.version = null;
    inputs.accounts.clear();
    inputs.accountCount = 0;
    inputs.enrollments.clear();
    inputs.progress.clear();
    inputs.clearFlags.clear();
  }

  /** Forgets everything not stored: the next run starts from the stored cursor and metrics. */
  function forgetAll(): void {
    position = null;
    stored = null;
    indexedTo = null;
    metrics.clear();
    dirty.clear();
    forgetInputs();
  }

  function forget(enrollmentId: string): void {
    metrics.delete(enrollmentId);
    dirty.delete(enrollmentId);
  }

  /** Locks the cursor; where another process tracked since, starts over from what it stored. */
  async function claim(trx: Db): Promise<EventCursor> {
    const cursor = await readCursor(trx, dialect);
    if (position === null || stored === null || !sameCursor(cursor, stored)) {
      forgetAll();
      position = cursor;
      stored = cursor;
    }
    return position;
  }

  /**
   * Brings the account index up to where the tracking has read, in a transaction of its own
   * beside the tracking's (at the same time on PostgreSQL); one run at a time.
   */
  function indexAccounts(): Promise<void> {
    const upTo = position;
    indexing ??= (async () => {
      if (upTo === null) return;
      indexedAt = performance.now();
      await db.transaction().execute((trx) => indexAccountEvents(trx, dialect, upTo, clock()));
      indexedTo = upTo;
    })()
      .catch((error: unknown) => {
        log.error({ err: error }, 'indexing events by account failed; retrying later');
      })
      .finally(() => {
        indexing = null;
      });
    return indexing;
  }

  /** Whether the account index is behind, and due: every INDEX_MS, and when stopping. */
  function indexDue(): boolean {
    return (
      position !== null &&
      (indexedTo === null || !sameCursor(indexedTo, position)) &&
      (stopped || performance.now() - indexedAt >= INDEX_MS)
    );
  }

  /** Writes the metrics that moved and the cursor, together. */
  async function checkpoint(trx: Db, now: string): Promise<void> {
    if (position === null) return;
    const byWorkspace = new Map<string, Map<string, MetricState>>();
    for (const id of dirty) {
      const kept = metrics.get(id);
      if (kept === undefined) continue;
      const states = byWorkspace.get(kept.workspaceId) ?? new Map<string, MetricState>();
      states.set(id, kept.state);
      byWorkspace.set(kept.workspaceId, states);
    }
    for (const [workspaceId, states] of byWorkspace) {
      await saveMetrics(trx, workspaceId, states, now, { rebuilt: false });
    }
    await writeCursor(trx, position, now);
    stored = position;
    dirty.clear();
    checkpointedAt = performance.now();
    dropOldest(metrics, maxKept);
    dropIdle();
  }

  /**
   * The events handed over right after `from`, when the next events in commit order are
   * exactly those. SQLite knows it from the commit (`after`); elsewhere each commit is counted
   * against what is committed between the two positions, which is far cheaper than reading it.
   */
  async function takeHanded(trx: Db, from: EventCursor): Promise<StoredEvent[] | null> {
    while (handed[0] !== undefined && passed(from, lastOf(handed[0]))) {
      handedCount -= handed.shift()?.events.length ?? 0;
    }
    const events: StoredEvent[] = [];
    let at = from;
    for (let group = handed[0]; group !== undefined; group = handed[0]) {
      if (events.length >= chunkSize) break;
      const next =
        group.after === null
          ? await committedExactly(trx, dialect, at, lastOf(group), group.events.length)
          : group.after === at.seq;
      if (!next) break;
      handed.shift();
      handedCount -= group.events.length;
      events.push(...group.events);
      at = lastOf(group);
    }
    return events.length > 0 ? events : null;
  }

  async function trackedProgram(trx: Db, versionId: string): Promise<TrackedProgram> {
    const known = programs.get(versionId);
    if (known !== undefined) return known;
    const row = await trx
      .selectFrom('program_versions')
      .select(['definition', 'status'])
      .where('id', '=', versionId)
      .executeTakeFirstOrThrow();
    const tracked = trackProgram(fromDbJson<ProgramDefinition>(row.definition));
    // Published versions never change; a draft is read again next time.
    if (row.status === 'published') programs.set(versionId, tracked);
    return tracked;
  }

  /** Group calls' traits merged over the account's, each call's activity carrying the result. */
  function accountActivities(account: Account, events: StoredEvent[]) {
    let traits = account.traits as Record<string, MetricValue>;
    const activities: TrackedActivity[] = [];
    for (const event of events) {
      if (event.type === 'group') {
        const given = (JSON.parse(event.payload) as { traits?: Record<string, MetricValue> })
          .traits;
        if (given !== undefined && given !== null && typeof given === 'object') {
          traits = { ...traits, ...given };
          activities.push(activityOf(event, traits));
          continue;
        }
      }
      activities.push(activityOf(event));
    }
    return { activities, traits };
  }

  async function advance(
    trx: Db,
    workspaceId: string,
    enrollment: TrackedEnrollment,
    input: {
      state: MetricState;
      traits: Record<string, MetricValue>;
      activities: TrackedActivity[];
      evaluateAt?: number;
      /** The enrollment's progress, when already read. */
      progress?: MilestoneProgress[];
    },
    now: string,
  ): Promise<{ state: MetricState | null; changed: boolean; progress?: MilestoneProgress[] }> {
    const tracked = await trackedProgram(trx, enrollment.programVersionId);
    if (tracked.criteria.size === 0) return { state: input.state, changed: false };
    const progress =
      input.progress ??
      (await listProgressOfEnrollments(trx, workspaceId, [enrollment.id])).get(enrollment.id) ??
      [];
    const result = advanceEnrollment({
      tracked,
      progress,
      state: input.state,
      traits: input.traits,
      startedAt: Date.parse(enrollment.startedAt),
      activities: input.activities,
      ...(input.evaluateAt !== undefined && { evaluateAt: input.evaluateAt }),
    });
    if (result.needsReplay) return { state: null, changed: true };
    await recordProgressChanges(trx, workspaceId, enrollment.id, result.changes, now);
    return { state: input.state, changed: result.metricsChanged, progress: result.progress };
  }

  /**
   * Runs a chunk's work as one transaction. Where the dialect says so (SQLite: one writer for
   * the whole file), the work reads and computes without the write lock, and its writes run
   * afterwards, holding it, if none of its inputs changed meanwhile (`tracking_version`); else
   * what it computed is forgotten and it runs again from what is stored.
   */
  async function inChunkTransaction<T>(work: (trx: Db) => Promise<T>): Promise<T> {
    if (dialect.capabilities.optimisticTracking) {
      for (let tries = 0; tries < MAX_OPTIMISTIC_TRIES; tries++) {
        const { result, writes } = await withDeferredWrites(db, async (connection) => {
          const version = await trackingVersion(connection);
          // Changed by anyone else (or by this tracker outside a chunk, but for a checkpoint of
          // its own) since the last chunk.
          if (version !== inputs.version) forgetInputs();
          dropOldestAccounts();
          for (const kept of [inputs.enrollments, inputs.progress, inputs.clearFlags]) {
            dropOldest(kept, maxKept);
          }
          inputs.version = null;
          return { version, value: await work(connection) };
        });
        // A chunk with nothing to write (most of them) needs no write lock: what it computed
        // holds if its inputs are still as it read them.
        const after =
          writes.length === 0
            ? (await trackingVersion(db)) === result.version
              ? result.version
              : null
            : await db.transaction().execute(async (trx) => {
                if ((await trackingVersion(trx)) !== result.version) return null;
                for (const write of writes) await trx.executeQuery(write);
                return trackingVersion(trx);
              });
        if (after !== null) {
          inputs.version = after;
          return result.value;
        }
        forgetAll();
      }
    }
    forgetInputs();
    return db.transaction().execute(work);
  }

  /** A chunk's accounts by external id: those kept, and the others read. */
  function chunkAccounts(
    trx: Db,
    workspaceId: string,
    externalIds: readonly string[],
  ): Promise<Map<string, Account>> {
    const kept = inputs.accounts.get(workspaceId);
    return keptOrRead(
      externalIds,
      (externalId) => kept?.get(externalId),
      (missing) => accountsByExternalId(trx, workspaceId, missing),
      (_, account) => keepAccount(workspaceId, account),
    );
  }

  /** The active enrollments of a chunk's accounts: those kept, and the others read. */
  async function chunkEnrollments(
    trx: Db,
    workspaceId: string,
    accountIds: readonly string[],
  ): Promise<TrackedEnrollment[]> {
    const missing = accountIds.filter((id) => !inputs.enrollments.has(id));
    const read = await activeEnrollmentsOf(trx, workspaceId, missing);
    for (const id of missing) inputs.enrollments.set(id, []);
    for (const enrollment of read) inputs.enrollments.get(enrollment.accountId)?.push(enrollment);
    return accountIds.flatMap((id) => inputs.enrollments.get(id) ?? []);
  }

  /** The progress of a chunk's enrollments: what is kept, and the rest read. */
  function chunkProgress(
    trx: Db,
    workspaceId: string,
    enrollmentIds: readonly string[],
  ): Promise<Map<string, MilestoneProgress[]>> {
    return keptOrRead(
      enrollmentIds,
      (id) => inputs.progress.get(id),
      (missing) => listProgressOfEnrollments(trx, workspaceId, missing),
      (id, progress) => inputs.progress.set(id, progress),
    );
  }

  /**
   * The metrics of a chunk's enrollments and whether a rebuild was requested: a state at hand
   * whose flag was read clear needs no read while nothing else changes the inputs (a rebuild
   * request changes them); the others are read.
   */
  function chunkMetrics(
    trx: Db,
    workspaceId: string,
    enrollmentIds: readonly string[],
  ): Promise<Map<string, StoredMetrics>> {
    return keptOrRead(
      enrollmentIds,
      (id) => {
        const state = inputs.clearFlags.has(id) ? metrics.get(id)?.state : undefined;
        return state === undefined ? undefined : { state, rebuildRequested: false };
      },
      (missing) => metricsOf(trx, workspaceId, missing, (id) => metrics.get(id)?.state),
      (id, stored) => {
        if (!stored.rebuildRequested) inputs.clearFlags.add(id);
      },
    );
  }

  /** Tracks one chunk of events; returns how many it read. */
  async function trackChunk(): Promise<number> {
    return inChunkTransaction(async (trx) => {
      const from = await claim(trx);
      // With nothing handed over yet, a commit on its way will be: its events are not read back.
      const events =
        (await takeHanded(trx, from)) ??
        (handed.length === 0 && handsOnTheWay > 0
          ? []
          : await eventsAfter(trx, dialect, from, chunkSize));
      const last = events.at(-1);
      if (last === undefined) return 0;
      const now = clock();

      const byWorkspace = new Map<string, Map<string, StoredEvent[]>>();
      for (const event of events) {
        if (event.account_key === null || !TRACKED_TYPES.has(event.type)) continue;
        let accounts = byWorkspace.get(event.workspace_id);
        if (accounts === undefined) {
          accounts = new Map();
          byWorkspace.set(event.workspace_id, accounts);
        }
        const list = accounts.get(event.account_key);
        if (list === undefined) accounts.set(event.account_key, [event]);
        else list.push(event);
      }

      for (const [workspaceId, eventsByAccount] of byWorkspace) {
        const accounts = await chunkAccounts(trx, workspaceId, [...eventsByAccount.keys()]);
        for (const account of await createAccountsFromGroups(
          trx,
          workspaceId,
          eventsByAccount,
          accounts,
          now,
        )) {
          accounts.set(account.externalId, account);
          keepAccount(workspaceId, account);
        }
        const enrollments = await chunkEnrollments(
          trx,
          workspaceId,
          [...accounts.values()].map((a) => a.id),
        );
        const kept = await chunkMetrics(
          trx,
          workspaceId,
          enrollments.map((e) => e.id),
        );
        const progress = await chunkProgress(
          trx,
          workspaceId,
          enrollments.map((e) => e.id),
        );
        const rebuild: string[] = [];
        for (const account of accounts.values()) {
          active.accounts.add(account.id);
          const events = (eventsByAccount.get(account.externalId) ?? []).sort(inTimeOrder);
          const { activities, traits } = accountActivities(account, events);
          if (traits !== account.traits) {
            await updateAccountTraits(trx, workspaceId, account.id, traits, now);
            keepAccount(workspaceId, { ...account, traits, updatedAt: now });
          }
          for (const enrollment of inputs.enrollments.get(account.id) ?? []) {
            active.enrollments.add(enrollment.id);
            const stored = kept.get(enrollment.id);
            if (stored === undefined) rebuild.push(enrollment.id);
            if (stored === undefined || stored.rebuildRequested) {
              forget(enrollment.id);
              continue;
            }
            const {
              state,
              changed,
              progress: after,
            } = await advance(
              trx,
              workspaceId,
              enrollment,
              {
                state: stored.state,
                traits: account.traits as Record<string, MetricValue>,
                activities,
                progress: progress.get(enrollment.id) ?? [],
              },
              now,
            );
            if (state === null) {
              forget(enrollment.id);
              rebuild.push(enrollment.id);
              continue;
            }
            if (after !== undefined) inputs.progress.set(enrollment.id, after);
            metrics.set(enrollment.id, { workspaceId, state });
            // Most events only repeat a user's hour: such a state need not be written.
            if (changed) dirty.add(enrollment.id);
          }
        }
        await requestRebuild(trx, workspaceId, rebuild, now);
      }
      position = { txid: last.txid, seq: last.seq };
      if (performance.now() - checkpointedAt >= CHECKPOINT_MS) await checkpoint(trx, now);
      return events.length;
    });
  }

  /** Computes some requested enrollments again from every event read so far. */
  async function rebuildSome(limit = 20): Promise<number> {
    // Looked for first without a transaction, which takes the write lock on SQLite.
    if (!(await rebuildsRequested(db))) return 0;
    return db.transaction().execute(async (trx) => {
      // The cursor first, as trackChunk takes it: the same lock order on every server.
      const upTo = await claim(trx);
      const claimed = await claimRebuilds(trx, dialect, limit);
      if (claimed.length === 0) return 0;
      const now = clock();
      const found = [];
      for (const { enrollmentId, workspaceId } of claimed) {
        const enrollment = await findTrackedEnrollment(trx, workspaceId, enrollmentId);
        const account =
          enrollment?.status === 'active'
            ? await trx
                .selectFrom('accounts')
                .select(['external_id', 'traits'])
                .where('workspace_id', '=', workspaceId)
                .where('id', '=', enrollment.accountId)
                .executeTakeFirst()
            : undefined;
        found.push({ enrollmentId, workspaceId, enrollment, account });
      }
      // Every account's events at once: what the account index lacks yet is read once for all.
      const eventsOf = new Map<string, Map<string, StoredEvent[]>>();
      for (const workspaceId of new Set(found.map((f) => f.workspaceId))) {
        const keys = found.flatMap((f) =>
          f.workspaceId === workspaceId && f.account ? [f.account.external_id] : [],
        );
        eventsOf.set(workspaceId, await accountEventsUpTo(trx, dialect, workspaceId, keys, upTo));
      }
      const rebuilt = new Map<string, Map<string, MetricState>>();
      for (const { enrollmentId, workspaceId, enrollment, account } of found) {
        const state = emptyMetricState();
        if (enrollment && account) {
          const traits = fromDbJson<Record<string, MetricValue>>(account.traits);
          const events = (eventsOf.get(workspaceId)?.get(account.external_id) ?? []).filter(
            (event) => TRACKED_TYPES.has(event.type) && event.type !== 'group',
          );
          const replay = await advance(
            trx,
            workspaceId,
            enrollment,
            { state, traits, activities: events.map((event) => activityOf(event)) },
            now,
          );
          if (replay.state === null)
            throw new Error(`replay of ${enrollmentId} asked for a replay`);
          // What no event decides (traits alone, days since the start) is decided now.
          await advance(
            trx,
            workspaceId,
            enrollment,
            { state, traits, activities: [], evaluateAt: Date.parse(now) },
            now,
          );
        }
        forget(enrollmentId);
        const states = rebuilt.get(workspaceId) ?? new Map<string, MetricState>();
        states.set(enrollmentId, state);
        rebuilt.set(workspaceId, states);
      }
      // Rebuilt as of `upTo`: written with the cursor at it, as every kept state is.
      await checkpoint(trx, now);
      for (const [workspaceId, states] of rebuilt) {
        await saveMetrics(trx, workspaceId, states, now, { rebuilt: true });
        for (const [enrollmentId, state] of states)
          metrics.set(enrollmentId, { workspaceId, state });
      }
      return claimed.length;
    });
  }

  /**
   * Evaluates, as of now, the open automatic milestones of every active enrollment whose
   * criteria can come true with time alone (days since the start, a window events slide out
   * of): no event announces that. Runs hourly, so such a completion is timed at the sweep, up
   * to an hour after the moment it became true. Returns the enrollments evaluated.
   */
  async function sweepNow(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      await claim(trx);
      const now = clock();
      const rows = await trx
        .selectFrom('enrollment_metrics')
        .innerJoin('enrollments', 'enrollments.id', 'enrollment_metrics.enrollment_id')
        .innerJoin('accounts', 'accounts.id', 'enrollments.account_id')
        .select([
          'enrollments.id',
          'enrollments.workspace_id',
          'enrollments.account_id',
          'enrollments.program_version_id',
          'enrollments.started_at',
          'enrollment_metrics.state',
          'accounts.traits',
        ])
        .where('enrollments.status', '=', 'active')
        .where('enrollment_metrics.rebuild_requested_at', 'is', null)
        .execute();
      let evaluated = 0;
      for (const row of rows) {
        const tracked = await trackedProgram(trx, row.program_version_id);
        if (!changesWithTime(tracked.plan)) continue;
        await advance(
          trx,
          row.workspace_id,
          {
            id: row.id,
            accountId: row.account_id,
            programVersionId: row.program_version_id,
            startedAt: row.started_at,
          },
          {
            state:
              metrics.get(row.id)?.state ?? metricStateOf(fromDbJson<StoredMetricState>(row.state)),
            traits: fromDbJson<Record<string, MetricValue>>(row.traits),
            activities: [],
            evaluateAt: Date.parse(now),
          },
          now,
        );
        evaluated += 1;
      }
      return evaluated;
    });
  }

  /**
   * Writes the metrics and the cursor when they are ahead of what is stored: CHECKPOINT_MS after
   * the last checkpoint (under load the tracker is idle between two commits: each would write
   * every enrollment it touched), or at once when `now` (a caller waits for it, or it stops).
   */
  async function checkpointIfBehind(now: boolean): Promise<void> {
    if (position === null || stored === null || (dirty.size === 0 && sameCursor(position, stored)))
      return;
    if (!now && performance.now() - checkpointedAt < CHECKPOINT_MS) {
      // The poll finds it behind once the time is up.
      return;
    }
    await db.transaction().execute(async (trx) => {
      const before = position;
      // Inputs no one else changed since the last chunk are still good after this write.
      const unchanged = inputs.version !== null && (await trackingVersion(trx)) === inputs.version;
      const at = await claim(trx);
      if (at !== before) return;
      await checkpoint(trx, clock());
      if (unchanged) inputs.version = await trackingVersion(trx);
    });
  }

  async function runUntilIdle(): Promise<void> {
    do {
      again = false;
      failed = false;
      try {
        // Rebuilds take turns with new events, so a steady stream never starves them.
        while (!stopped) {
          if (sweepWaiters.length > 0) {
            const waiters = sweepWaiters.splice(0);
            try {
              const evaluated = await sweepNow();
              for (const waiter of waiters) waiter.resolve(evaluated);
            } catch (error) {
              for (const waiter of waiters) waiter.reject(error);
              throw error;
            }
          }
          // A turn of the event loop first: events handed over meanwhile arrive, and need not
          // be read back (on a thread of its own, they come as messages).
          await new Promise<void>((resolve) => setImmediate(resolve));
          const tracked = await trackChunk();
          if (indexDue()) void indexAccounts();
          const rebuilt = await rebuildSome();
          if (tracked === 0 && rebuilt === 0) break;
        }
        if (!stopped) await checkpointIfBehind(idleWaiters.length > 0);
        if (indexDue()) void indexAccounts();
      } catch (error) {
        failed = true;
        forgetAll();
        log.error({ err: error }, 'tracking failed; retrying on the next event or poll');
      }
    } while (again && !stopped);
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  function nudge(): void {
    if (stopped) return;
    if (running !== null) {
      again = true;
      return;
    }
    running = runUntilIdle().finally(() => {
      running = null;
    });
  }

  /** Runs the sweep in turn with the tracking, which owns the metrics in memory. */
  function sweep(): Promise<number> {
    return new Promise((resolve, reject) => {
      sweepWaiters.push({ resolve, reject });
      nudge();
    });
  }

  return {
    /** New events were stored: track them soon. */
    nudge,
    /**
     * A commit begins whose events `handOver` will bring: until the returned function is called
     * (once they are handed over, or the commit failed), the tracking waits for them.
     */
    expectHandOver(): () => void {
      handsOnTheWay += 1;
      let arrived = false;
      return () => {
        if (arrived) return;
        arrived = true;
        handsOnTheWay -= 1;
      };
    },
    /** Events the ingestion just committed: tracked soon, without reading them back. */
    handOver(committed: CommittedEvents): void {
      if (!stopped && committed.events.length > 0) {
        if (handedCount + committed.events.length > MAX_HANDED_EVENTS) {
          handed.length = 0;
          handedCount = 0;
        }
        handed.push(committed);
        handedCount += committed.events.length;
      }
      nudge();
    },
    start(): void {
      stopped = false;
      timer ??= setInterval(nudge, pollMs).unref();
      sweepTimer ??= setInterval(() => {
        sweep().catch(() => {}); // logged by the run that failed
      }, SWEEP_MS).unref();
      nudge();
    },
    sweep,
    /**
     * Resolves once every event stored so far is tracked (for tests and the backfill command),
     * or once a run failed (it is logged). On PostgreSQL an event is read only once every
     * transaction older than its own has ended, anywhere on the server: until then a run finds
     * nothing to read, so this waits until the cursor has passed the last event stored now.
     */
    async settled(): Promise<void> {
      const target = await lastStoredEvent(db, dialect);
      for (;;) {
        if (stopped) return;
        const idle = new Promise<void>((resolve) => idleWaiters.push(resolve));
        if (running === null) nudge();
        else again = true;
        await idle;
        if (failed || target === null || passed(await peekCursor(db), target)) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, 20)));
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      if (sweepTimer !== null) clearInterval(sweepTimer);
      timer = null;
      sweepTimer = null;
      await running;
      try {
        await checkpointIfBehind(true);
      } catch (error) {
        log.error(
          { err: error },
          'the last checkpoint failed; what followed the one before is tracked again',
        );
      }
      await indexing;
      if (indexDue()) await indexAccounts();
      for (const resolve of idleWaiters.splice(0)) resolve();
      for (const waiter of sweepWaiters.splice(0)) waiter.resolve(0);
    },
  };
}

/**
 * The values of `keys` that a chunk needs: those `kept` still has, and the others read at once
 * (`read`) and handed to `keep`. Keys neither kept nor found are absent.
 */
async function keptOrRead<V>(
  keys: readonly string[],
  kept: (key: string) => V | undefined,
  read: (missing: string[]) => Promise<Iterable<[string, V]>>,
  keep: (key: string, value: V) => void,
): Promise<Map<string, V>> {
  const values = new Map<string, V>();
  const missing: string[] = [];
  for (const key of keys) {
    const value = kept(key);
    if (value === undefined) missing.push(key);
    else values.set(key, value);
  }
  if (missing.length === 0) return values;
  for (const [key, value] of await read(missing)) {
    values.set(key, value);
    keep(key, value);
  }
  return values;
}

/**
 * Drops the entries `kept` holds beyond `max`, those set first (a map or set iterates in the
 * order its keys were added): an entry in use is read again at worst once every `max` new ones.
 */
function dropOldest(kept: Map<string, unknown> | Set<string>, max: number): void {
  let excess = kept.size - max;
  if (excess <= 0) return;
  for (const key of kept.keys()) {
    kept.delete(key);
    if (--excess === 0) return;
  }
}

// Read two or three times a chunk: written out once, as the builder would on either engine.
const TRACKING_VERSION = CompiledQuery.raw('select changes from tracking_version where id = 1');

async function trackingVersion(db: Db): Promise<string> {
  const {
    rows: [row],
  } = await db.executeQuery<{ changes: number | string }>(TRACKING_VERSION);
  if (row === undefined) throw new Error('tracking_version has no row');
  return String(row.changes);
}

function sameCursor(a: EventCursor, b: EventCursor): boolean {
  return a.seq === b.seq && BigInt(a.txid) === BigInt(b.txid);
}

/** Where the last event of a commit stands in commit order. */
function lastOf(committed: CommittedEvents): EventCursor {
  const last = committed.events.at(-1);
  return { txid: last?.txid ?? '0', seq: last?.seq ?? 0 };
}

export type Tracker = ReturnType<typeof createTracker>;
