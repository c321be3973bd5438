import {
  advanceEnrollment,
  changesWithTime,
  emptyMetricState,
  type MetricState,
  type MetricValue,
  type MilestoneProgress,
  type ProgramDefinition,
  type TrackedActivity,
  type TrackedProgram,
  trackProgram,
} from '@waymark/core';
import type { FastifyBaseLogger } from 'fastify';
import type { Account } from '../accounts/accounts.repo.js';
import type { Clock } from '../auth/clock.js';
import { fromDbJson } from '../db/codec.js';
import type { Database, Db } from '../db/database.js';
import { listProgressOfEnrollments } from '../enrollments/progress.repo.js';
import { recordProgressChanges } from '../enrollments/record-progress-changes.js';
import { createAccountsFromGroups } from './accounts-from-groups.js';
import { activityOf, TRACKED_TYPES } from './activities.js';
import {
  accountEventsUpTo,
  type EventCursor,
  eventsAfter,
  lastStoredEvent,
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
  requestRebuild,
  saveMetrics,
  type TrackedEnrollment,
  updateAccountTraits,
} from './tracking.repo.js';

const SWEEP_MS = 3_600_000;

export interface TrackerOptions {
  database: Pick<Database, 'db' | 'dialect'>;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Events read per transaction. */
  chunkSize?: number;
  /** How often to look for events other processes stored, in ms. */
  pollMs?: number;
}

/**
 * Follows the stored events in commit order and keeps every active enrollment's metrics and
 * automatic milestones up to date: one transaction per chunk, with the cursor, so a crash
 * neither loses nor repeats a completion.
 */
export function createTracker({
  database: { db, dialect },
  clock,
  log,
  chunkSize = 5000,
  pollMs = 1000,
}: TrackerOptions) {
  const programs = new Map<string, TrackedProgram>();
  let running: Promise<void> | null = null;
  let again = false;
  let failed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let sweepTimer: NodeJS.Timeout | null = null;
  const idleWaiters: (() => void)[] = [];

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
  ): Promise<{ state: MetricState | null; changed: boolean }> {
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
    return { state: input.state, changed: result.metricsChanged };
  }

  /** Reads one chunk of events; returns how many it read. */
  async function trackChunk(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const cursor = await readCursor(trx, dialect);
      const events = await eventsAfter(trx, dialect, cursor, chunkSize);
      const last = events.at(-1);
      if (last === undefined) return 0;
      const now = clock();

      const byWorkspace = new Map<string, Map<string, StoredEvent[]>>();
      for (const event of events) {
        if (event.account_key === null || !TRACKED_TYPES.has(event.type)) continue;
        const accounts = byWorkspace.get(event.workspace_id) ?? new Map<string, StoredEvent[]>();
        const list = accounts.get(event.account_key) ?? [];
        list.push(event);
        accounts.set(event.account_key, list);
        byWorkspace.set(event.workspace_id, accounts);
      }

      for (const [workspaceId, eventsByAccount] of byWorkspace) {
        const accounts = await accountsByExternalId(trx, workspaceId, [...eventsByAccount.keys()]);
        for (const account of await createAccountsFromGroups(
          trx,
          workspaceId,
          eventsByAccount,
          accounts,
          now,
        )) {
          accounts.set(account.externalId, account);
        }
        const enrollments = await activeEnrollmentsOf(
          trx,
          workspaceId,
          [...accounts.values()].map((a) => a.id),
        );
        const stored = await metricsOf(
          trx,
          workspaceId,
          enrollments.map((e) => e.id),
        );
        const progress = await listProgressOfEnrollments(
          trx,
          workspaceId,
          enrollments.map((e) => e.id),
        );
        const states = new Map<string, MetricState>();
        const rebuild: string[] = [];
        for (const account of accounts.values()) {
          const events = (eventsByAccount.get(account.externalId) ?? []).sort(
            (a, b) => a.timestamp.localeCompare(b.timestamp) || a.seq - b.seq,
          );
          const { activities, traits } = accountActivities(account, events);
          if (traits !== account.traits) {
            await updateAccountTraits(trx, workspaceId, account.id, traits, now);
          }
          for (const enrollment of enrollments.filter((e) => e.accountId === account.id)) {
            const metrics = stored.get(enrollment.id);
            if (metrics === undefined) rebuild.push(enrollment.id);
            if (metrics === undefined || metrics.rebuildRequested) continue;
            const { state, changed } = await advance(
              trx,
              workspaceId,
              enrollment,
              {
                state: metrics.state,
                traits: account.traits as Record<string, MetricValue>,
                activities,
                progress: progress.get(enrollment.id) ?? [],
              },
              now,
            );
            // Written back only when a metric moved: most events only repeat a user's hour.
            if (state === null) rebuild.push(enrollment.id);
            else if (changed) states.set(enrollment.id, state);
          }
        }
        await saveMetrics(trx, workspaceId, states, now);
        await requestRebuild(trx, workspaceId, rebuild, now);
      }
      await writeCursor(trx, { txid: last.txid, seq: last.seq }, now);
      return events.length;
    });
  }

  /** Computes some requested enrollments again from every event read so far. */
  async function rebuildSome(limit = 20): Promise<number> {
    return db.transaction().execute(async (trx) => {
      // The cursor first, as trackChunk takes it: the same lock order on every server.
      const cursor = await readCursor(trx, dialect);
      const claimed = await claimRebuilds(trx, dialect, limit);
      if (claimed.length === 0) return 0;
      const now = clock();
      for (const { enrollmentId, workspaceId } of claimed) {
        const enrollment = await findTrackedEnrollment(trx, workspaceId, enrollmentId);
        const account =
          enrollment &&
          (await trx
            .selectFrom('accounts')
            .select(['external_id', 'traits'])
            .where('workspace_id', '=', workspaceId)
            .where('id', '=', enrollment.accountId)
            .executeTakeFirst());
        const state = emptyMetricState();
        if (enrollment?.status === 'active' && account) {
          const traits = fromDbJson<Record<string, MetricValue>>(account.traits);
          const events = (
            await accountEventsUpTo(trx, dialect, workspaceId, account.external_id, cursor)
          ).filter((event) => TRACKED_TYPES.has(event.type) && event.type !== 'group');
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
        await saveMetrics(trx, workspaceId, new Map([[enrollmentId, state]]), now);
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
  async function sweep(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      await readCursor(trx, dialect); // the lock order of every tracking transaction
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
            state: fromDbJson<MetricState>(row.state),
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

  async function runUntilIdle(): Promise<void> {
    do {
      again = false;
      failed = false;
      try {
        // Rebuilds take turns with new events, so a steady stream never starves them.
        while (!stopped) {
          const tracked = await trackChunk();
          const rebuilt = await rebuildSome();
          if (tracked === 0 && rebuilt === 0) break;
        }
      } catch (error) {
        failed = true;
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

  return {
    /** New events were stored: track them soon. */
    nudge,
    start(): void {
      stopped = false;
      timer ??= setInterval(nudge, pollMs).unref();
      sweepTimer ??= setInterval(() => {
        sweep().catch((error) => log.error({ err: error }, 'time-based evaluation failed'));
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
      for (const resolve of idleWaiters.splice(0)) resolve();
    },
  };
}

/** Whether the cursor is at or past an event, in commit order. */
function passed(cursor: EventCursor, event: EventCursor): boolean {
  const [a, b] = [BigInt(cursor.txid), BigInt(event.txid)];
  return a > b || (a === b && cursor.seq >= event.seq);
}

export type Tracker = ReturnType<typeof createTracker>;
