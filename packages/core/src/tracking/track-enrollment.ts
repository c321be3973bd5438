import { type CompiledCriteria, compileCriteria } from '../criteria/compile-criteria.js';
import { evaluateCriteria, type MetricValue } from '../criteria/evaluate-criteria.js';
import { uniqueMetrics } from '../criteria/metrics.js';
import type { ProgramDefinition } from '../program/program.js';
import type { Actor, MilestoneProgress } from '../progress/progress.js';
import type { ProgressChange } from '../progress/progress-change.js';
import { completeMilestone } from '../progress/transitions.js';
import {
  type Activity,
  applyActivity,
  type MetricPlan,
  type MetricState,
  metricValuesAt,
  planMetrics,
  pruneMetricState,
} from './metric-state.js';

/** Who completes milestones from product data. */
export const TRACKING_ACTOR: Actor = { type: 'system', id: 'tracking' };

/** A program version ready for tracking: its automatic milestones' criteria, compiled once. */
export interface TrackedProgram {
  readonly program: ProgramDefinition;
  /** Milestone key → criteria, for the milestones verified automatically. */
  readonly criteria: ReadonlyMap<string, CompiledCriteria>;
  /** Milestone key → the metric keys its criteria read. */
  readonly reads: ReadonlyMap<string, ReadonlySet<string>>;
  /** Metric key → the automatic milestones whose criteria read it. */
  readonly readers: ReadonlyMap<string, readonly string[]>;
  /** Every metric the criteria read, and how to keep them. */
  readonly plan: MetricPlan;
}

/** The event a completion came from, kept as its evidence. */
export interface EventRef {
  messageId: string;
  type: string;
  event: string | null;
  timestamp: string;
}

/** One stored call, as the tracking sees it; `traits` is the account's trait set after it. */
export interface TrackedActivity extends Activity {
  ref: EventRef;
  traits?: Readonly<Record<string, MetricValue>>;
}

export interface AdvanceInput {
  tracked: TrackedProgram;
  progress: readonly MilestoneProgress[];
  /** Updated in place. */
  state: MetricState;
  traits: Readonly<Record<string, MetricValue>>;
  /** When the enrollment started, epoch ms: nothing completes before it. */
  startedAt: number;
  /** Ordered by time (ties in arrival order). */
  activities: readonly TrackedActivity[];
  /** Evaluate every open automatic milestone at this time first (a milestone just opened). */
  evaluateAt?: number;
}

export interface AdvanceResult {
  progress: MilestoneProgress[];
  changes: ProgressChange[];
  traits: Readonly<Record<string, MetricValue>>;
  /** Whether any metric changed (the state needs writing back); the latest time alone is not. */
  metricsChanged: boolean;
  /**
   * An activity older than ones already applied made a criterion true: when it became true
   * needs the account's events in time order, so the caller replays them (`replayEnrollment`)
   * instead of using this result.
   */
  needsReplay: boolean;
}

/**
 * Compiles the criteria of a program's automatic milestones. The program was validated when it
 * was saved, so a criterion that no longer compiles is a bug, not bad input.
 */
export function trackProgram(program: ProgramDefinition): TrackedProgram {
  const criteria = new Map<string, CompiledCriteria>();
  const reads = new Map<string, ReadonlySet<string>>();
  for (const milestone of program.milestones) {
    if (!milestone.verification.includes('auto') || milestone.criteria === undefined) continue;
    const compiled = compileCriteria(milestone.criteria);
    if (!compiled.ok) {
      throw new Error(
        `criteria of milestone "${milestone.key}" do not compile: ${compiled.error[0]?.message}`,
      );
    }
    criteria.set(milestone.key, compiled.value);
    reads.set(milestone.key, new Set(compiled.value.metricKeys));
  }
  const plan = planMetrics(uniqueMetrics([...criteria.values()].flatMap((c) => c.metrics)));
  const readers = new Map<string, string[]>();
  for (const [milestoneKey, keys] of reads) {
    for (const key of keys) readers.set(key, [...(readers.get(key) ?? []), milestoneKey]);
  }
  return { program, criteria, reads, readers, plan };
}

/**
 * Applies activities to an enrollment's metrics in time order and completes each open
 * automatic milestone at the time of the activity that made its criteria true, with the metric
 * values and that activity as evidence. Only the open milestones whose metrics an activity
 * changed are evaluated, and those a completion has just opened.
 */
export function advanceEnrollment(input: AdvanceInput): AdvanceResult {
  const { tracked, state, startedAt } = input;
  let progress = [...input.progress];
  let traits = input.traits;
  const changes: ProgressChange[] = [];

  const settle = (candidates: Iterable<string>, at: number, ref: EventRef | null): void => {
    let pending = new Set(candidates);
    while (pending.size > 0) {
      const opened = new Set<string>();
      for (const key of pending) {
        const row = progress.find((p) => p.milestoneKey === key);
        const criteria = tracked.criteria.get(key);
        if (row?.status !== 'open' || criteria === undefined) continue;
        const when = Math.max(at, row.openedAt === null ? at : Date.parse(row.openedAt));
        const values = metricValuesAt(state, tracked.plan, when, { traits, startedAt });
        const evaluation = evaluateCriteria(criteria, values);
        if (!evaluation.ok || !evaluation.value.satisfied) continue;
        const done = completeMilestone(tracked.program, progress, {
          milestoneKey: key,
          at: new Date(when).toISOString(),
          source: 'automatic',
          evidence: { metrics: evaluation.value.values, event: ref },
          actor: TRACKING_ACTOR,
        });
        if (!done.ok) continue;
        progress = done.value.progress;
        changes.push(...done.value.changes);
        for (const change of done.value.changes) {
          if (change.type === 'milestone.opened') opened.add(change.milestoneKey);
        }
      }
      pending = opened;
    }
  };

  if (input.evaluateAt !== undefined && input.evaluateAt >= startedAt) {
    settle(tracked.criteria.keys(), input.evaluateAt, null);
  }

  // The open automatic milestones: only they are evaluated, and only a completion changes them.
  let open = openAutomatic(tracked, progress);
  const latestHourBefore = state.latest === null ? null : hourOf(state.latest);
  let metricsChanged = false;
  for (const activity of input.activities) {
    const late = state.latest !== null && activity.at < state.latest;
    const changed = applyActivity(state, tracked.plan, activity, startedAt);
    if (changed.length > 0) metricsChanged = true;
    let traitsChanged: string[] = [];
    if (activity.traits !== undefined) {
      const after = activity.traits;
      traitsChanged = tracked.plan.traits
        .filter((trait) => !sameJson(traits[trait.name], after[trait.name]))
        .map((trait) => trait.key);
      traits = after;
    }
    if ((changed.length === 0 && traitsChanged.length === 0) || open.size === 0) continue;
    const affected = new Set<string>();
    for (const key of [...changed, ...traitsChanged]) {
      for (const milestoneKey of tracked.readers.get(key) ?? []) {
        if (open.has(milestoneKey)) affected.add(milestoneKey);
      }
    }
    if (affected.size === 0) continue;
    if (late) {
      // Evaluated as of the latest activity: a criterion that turns true needs a replay to
      // learn when; one that stays false changes nothing (the state is order-independent).
      const latest = state.latest ?? activity.at;
      if (latest >= startedAt && anySatisfied(input, affected, latest, traits)) {
        return {
          progress: [...input.progress],
          changes: [],
          traits,
          metricsChanged: true,
          needsReplay: true,
        };
      }
      continue;
    }
    if (activity.at < startedAt) continue;
    const before = changes.length;
    settle(affected, activity.at, activity.ref);
    if (changes.length > before) open = openAutomatic(tracked, progress);
  }
  // Hours and users fall out of the windows only as the latest event moves to a later hour.
  if (state.latest !== null && hourOf(state.latest) !== latestHourBefore) {
    pruneMetricState(state, tracked.plan);
  }
  return { progress, changes, traits, metricsChanged, needsReplay: false };
}

const hourOf = (ms: number) => Math.floor(ms / 3_600_000);

/** The keys of the automatic milestones that are open. */
function openAutomatic(
  tracked: TrackedProgram,
  progress: readonly MilestoneProgress[],
): ReadonlySet<string> {
  return new Set(
    progress
      .filter((p) => p.status === 'open' && tracked.criteria.has(p.milestoneKey))
      .map((p) => p.milestoneKey),
  );
}

/** Whether any of these open milestones' criteria holds at `at`. */
function anySatisfied(
  input: AdvanceInput,
  keys: ReadonlySet<string>,
  at: number,
  traits: Readonly<Record<string, MetricValue>>,
): boolean {
  const values = metricValuesAt(input.state, input.tracked.plan, at, {
    traits,
    startedAt: input.startedAt,
  });
  return [...keys].some((key) => {
    const criteria = input.tracked.criteria.get(key);
    if (criteria === undefined) return false;
    const evaluation = evaluateCriteria(criteria, values);
    return evaluation.ok && evaluation.value.satisfied;
  });
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
