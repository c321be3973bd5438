import {
  type CriteriaMet,
  type MetricValue,
  type ReplaySummary,
  replayCriteria,
  summarizeReplay,
  trackProgram,
} from '@waymark/core';
import { fromDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { Program, ProgramVersion } from '../programs/programs.repo.js';
import { listProgramVersions } from '../programs/programs.repo.js';
import { accountEventsUpTo } from './account-index.repo.js';
import { activityOf, TRACKED_TYPES } from './activities.js';
import { readCursor, type StoredEvent } from './events.repo.js';

/** Accounts whose events one read fetches: what was stored after the index is read once. */
const ACCOUNTS_READ_AT_ONCE = 200;

export interface MilestoneReplay {
  key: string;
  title: string;
  criteria: { candidate: string | null; published: string | null };
  /** Null where the milestone is not verified automatically in that version. */
  candidate: ReplaySummary | null;
  published: ReplaySummary | null;
}

export interface VersionReplay {
  baselineVersion: number | null;
  enrollments: number;
  /** More enrollments exist than were replayed (the most recent `limit` were). */
  limited: boolean;
  milestones: MilestoneReplay[];
}

/**
 * What-if: replays the stored events of the program's enrollments through a version's criteria
 * (typically a draft) and through the latest published version's, milestone by milestone, so a
 * criterion can be judged before anyone is tracked by it.
 */
export async function replayVersion(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  program: Program,
  candidate: ProgramVersion,
  limit: number,
): Promise<VersionReplay> {
  const versions = await listProgramVersions(db, workspaceId, program.id);
  const published = versions.filter((v) => v.status === 'published').at(-1) ?? null;
  const rows = await db
    .selectFrom('enrollments')
    .innerJoin('accounts', 'accounts.id', 'enrollments.account_id')
    .select(['enrollments.started_at', 'accounts.external_id', 'accounts.traits'])
    .where('enrollments.workspace_id', '=', workspaceId)
    .where(
      'enrollments.program_version_id',
      'in',
      versions.map((v) => v.id),
    )
    .where('enrollments.status', '!=', 'cancelled')
    .orderBy('enrollments.started_at', 'desc')
    .limit(limit + 1)
    .execute();
  const replayed = rows.slice(0, limit);

  const trackedCandidate = trackProgram(candidate.definition);
  const trackedPublished = published && trackProgram(published.definition);
  const cursor = await readCursor(db, dialect);
  const results: {
    startedAt: number;
    candidate: Map<string, CriteriaMet>;
    published: Map<string, CriteriaMet>;
  }[] = [];
  const eventsByAccount = new Map<string, StoredEvent[]>();
  for (let i = 0; i < replayed.length; i += ACCOUNTS_READ_AT_ONCE) {
    const keys = replayed.slice(i, i + ACCOUNTS_READ_AT_ONCE).map((row) => row.external_id);
    for (const [key, events] of await accountEventsUpTo(db, dialect, workspaceId, keys, cursor))
      eventsByAccount.set(key, events);
  }
  for (const row of replayed) {
    const events = eventsByAccount.get(row.external_id) ?? [];
    const activities = events
      .filter((event) => TRACKED_TYPES.has(event.type) && event.type !== 'group')
      .map((event) => activityOf(event));
    const enrollment = {
      startedAt: Date.parse(row.started_at),
      traits: fromDbJson<Record<string, MetricValue>>(row.traits),
    };
    results.push({
      startedAt: enrollment.startedAt,
      candidate: replayCriteria(trackedCandidate, enrollment, activities),
      published: trackedPublished
        ? replayCriteria(trackedPublished, enrollment, activities)
        : new Map(),
    });
  }

  const summary = (key: string, side: 'candidate' | 'published') =>
    summarizeReplay(results.map((r) => ({ startedAt: r.startedAt, met: r[side].get(key) })));
  const milestones = new Map<string, MilestoneReplay>();
  for (const milestone of [
    ...candidate.definition.milestones,
    ...(published?.definition.milestones ?? []),
  ]) {
    if (milestones.has(milestone.key)) continue;
    const inCandidate = trackedCandidate.criteria.get(milestone.key);
    const inPublished = trackedPublished?.criteria.get(milestone.key);
    milestones.set(milestone.key, {
      key: milestone.key,
      title: milestone.title,
      criteria: { candidate: inCandidate?.source ?? null, published: inPublished?.source ?? null },
      candidate: inCandidate ? summary(milestone.key, 'candidate') : null,
      published: inPublished ? summary(milestone.key, 'published') : null,
    });
  }
  return {
    baselineVersion: published?.version ?? null,
    enrollments: replayed.length,
    limited: rows.length > limit,
    milestones: [...milestones.values()],
  };
}
