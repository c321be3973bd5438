import { evaluateCriteria, type MetricValue } from '../criteria/evaluate-criteria.js';
import { applyActivity, emptyMetricState, metricValuesAt } from './metric-state.js';
import type { TrackedActivity, TrackedProgram } from './track-enrollment.js';

const DAY_MS = 86_400_000;

/** When one enrollment's events first met a milestone's criteria. */
export interface CriteriaMet {
  at: number;
  messageId: string | null;
}

/**
 * When each automatic milestone's criteria were first met by an enrollment's events (in time
 * order, since the enrollment started), milestone by milestone: dependencies and manual
 * verifications are not replayed, so a criterion is judged on the product data alone. This is
 * the what-if replay: run it for a draft and for the published version over the same events.
 */
export function replayCriteria(
  tracked: TrackedProgram,
  enrollment: { startedAt: number; traits: Readonly<Record<string, MetricValue>> },
  activities: readonly TrackedActivity[],
): Map<string, CriteriaMet> {
  const met = new Map<string, CriteriaMet>();
  const state = emptyMetricState();
  const { startedAt, traits } = enrollment;
  const check = (keys: Iterable<string>, at: number, messageId: string | null) => {
    const values = metricValuesAt(state, tracked.plan, at, { traits, startedAt });
    for (const key of keys) {
      const criteria = tracked.criteria.get(key);
      if (met.has(key) || criteria === undefined) continue;
      const evaluation = evaluateCriteria(criteria, values);
      if (evaluation.ok && evaluation.value.satisfied) met.set(key, { at, messageId });
    }
  };
  check(tracked.criteria.keys(), startedAt, null);
  for (const activity of activities) {
    const changed = applyActivity(state, tracked.plan, activity, startedAt);
    if (activity.at < startedAt || changed.length === 0) continue;
    const affected = [...tracked.reads]
      .filter(([key, reads]) => !met.has(key) && changed.some((metric) => reads.has(metric)))
      .map(([key]) => key);
    if (affected.length > 0) check(affected, activity.at, activity.ref.messageId);
  }
  return met;
}

/** How many enrollments met a milestone's criteria, and how fast. */
export interface ReplaySummary {
  met: number;
  /** Median whole days from the enrollment's start to the criteria being met; null if none. */
  medianDays: number | null;
  firstAt: string | null;
  lastAt: string | null;
}

/** Summarizes one milestone over many enrollments' replays. */
export function summarizeReplay(
  results: readonly { startedAt: number; met: CriteriaMet | undefined }[],
): ReplaySummary {
  const times = results.flatMap((r) => (r.met === undefined ? [] : [r.met.at]));
  const days = results
    .flatMap((r) => (r.met === undefined ? [] : [(r.met.at - r.startedAt) / DAY_MS]))
    .sort((a, b) => a - b);
  return {
    met: times.length,
    medianDays: days.length === 0 ? null : Math.floor(median(days)),
    firstAt:
      times.length === 0 ? null : new Date(times.reduce((a, b) => Math.min(a, b))).toISOString(),
    lastAt:
      times.length === 0 ? null : new Date(times.reduce((a, b) => Math.max(a, b))).toISOString(),
  };
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
