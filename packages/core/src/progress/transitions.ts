import type { ProgramDefinition, VerificationMethod } from '../program/program.js';
import { err, ok, type Result } from '../result.js';
import { type Instant, isInstant } from '../schedule/local-date.js';
import {
  type Actor,
  type CompletionSource,
  effectiveDependencies,
  isDone,
  lockedProgress,
  type MilestoneProgress,
} from './progress.js';
import type {
  CompleteMilestoneInput,
  ProgressChange,
  ProgressChangeType,
  ProgressError,
  ProgressUpdate,
  ReopenMilestoneInput,
  TransitionResult,
  WaiveMilestoneInput,
} from './progress-change.js';

const quote = (key: string): string => `"${key}"`;

/**
 * The enrollment as the transitions see it. The progress rows are the tracked milestones;
 * a dependency without a row does not apply to the account (see effectiveDependencies).
 */
interface Enrollment {
  rows: Map<string, MilestoneProgress>;
  deps: Map<string, string[]>;
}

type Checked = Result<{ enrollment: Enrollment; row: MilestoneProgress }, ProgressError>;

function check(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  milestoneKey: string,
  at: Instant,
): Checked {
  if (!isInstant(at)) {
    return err({
      code: 'invalid_timestamp',
      milestoneKey,
      value: at,
      message: `Invalid time "${at}": expected UTC as YYYY-MM-DDTHH:mm:ss.sssZ`,
    });
  }
  const rows = new Map(progress.map((row) => [row.milestoneKey, row]));
  const row = rows.get(milestoneKey);
  if (row === undefined) {
    return err({
      code: 'unknown_milestone',
      milestoneKey,
      message: `Milestone ${quote(milestoneKey)} is not tracked for this enrollment`,
    });
  }
  return ok({
    enrollment: { rows, deps: effectiveDependencies(program, new Set(rows.keys())) },
    row,
  });
}

function incompleteDependencies(
  enrollment: Enrollment,
  key: string,
  rows: Map<string, MilestoneProgress> = enrollment.rows,
): string[] {
  return (enrollment.deps.get(key) ?? []).filter((dep) => {
    const status = rows.get(dep)?.status;
    return status === undefined || !isDone(status);
  });
}

function requireReason(milestoneKey: string, reason: string): ProgressError | null {
  return reason.trim().length === 0
    ? {
        code: 'reason_required',
        milestoneKey,
        message: `A reason is required for ${quote(milestoneKey)}`,
      }
    : null;
}

function alreadyDone(row: MilestoneProgress): ProgressError | null {
  if (row.status === 'completed') {
    return {
      code: 'already_completed',
      milestoneKey: row.milestoneKey,
      message: `Milestone ${quote(row.milestoneKey)} is already completed`,
    };
  }
  if (row.status === 'waived') {
    return {
      code: 'already_waived',
      milestoneKey: row.milestoneKey,
      message: `Milestone ${quote(row.milestoneKey)} is waived; reopen it first`,
    };
  }
  return null;
}

/** The verification method each completion source stands for. */
const METHOD_OF_SOURCE: Record<CompletionSource, VerificationMethod> = {
  automatic: 'auto',
  csm: 'csm',
  client: 'client',
};
const METHOD_ORDER: readonly VerificationMethod[] = ['auto', 'csm', 'client'];
const VERIFIED_HOW: Record<VerificationMethod, string> = {
  auto: 'automatically from product data',
  csm: 'by the CSM',
  client: 'by the client',
};
const REFUSED_WHO: Record<CompletionSource, string> = {
  automatic: 'it cannot be completed automatically',
  csm: 'a CSM cannot complete it',
  client: 'the client cannot confirm it',
};

/** "a", "a or b", "a, b or c". */
function either(parts: readonly string[]): string {
  return parts.length <= 1
    ? parts.join('')
    : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/**
 * Refuses a completion whose source is not one of the milestone's verification methods, e.g. a
 * CSM marking done a milestone only the client may confirm. Waivers are not completions and are
 * never subject to it.
 */
function verificationRefused(
  program: ProgramDefinition,
  row: MilestoneProgress,
  source: CompletionSource,
): ProgressError | null {
  const milestone = program.milestones.find((m) => m.key === row.milestoneKey);
  if (milestone === undefined) {
    return {
      code: 'unknown_milestone',
      milestoneKey: row.milestoneKey,
      message: `Milestone ${quote(row.milestoneKey)} is not in program ${quote(program.key)}`,
    };
  }
  const allowed = METHOD_ORDER.filter((method) => milestone.verification.includes(method));
  if (allowed.includes(METHOD_OF_SOURCE[source])) return null;
  return {
    code: 'verification_not_allowed',
    milestoneKey: row.milestoneKey,
    source,
    allowed,
    message: `Milestone ${quote(row.milestoneKey)} is verified ${either(allowed.map((m) => VERIFIED_HOW[m]))}; ${REFUSED_WHO[source]}`,
  };
}

/**
 * Applies `updated` rows, then brings every other open or locked row in line with its
 * dependencies: open exactly when all are completed or waived. Only done statuses gate, so one
 * pass suffices. Emits one change per row that differs, the primary milestone first; follow-on
 * opens and locks carry the same actor, since they are consequences of that actor's action.
 */
function settle(
  enrollment: Enrollment,
  updated: Map<string, MilestoneProgress>,
  primary: { key: string; type: ProgressChangeType; reason?: string },
  at: Instant,
  actor: Actor,
): ProgressUpdate {
  const next = new Map([...enrollment.rows, ...updated]);
  for (const [key, row] of next) {
    if (isDone(row.status)) continue;
    const blocking = incompleteDependencies(enrollment, key, next);
    if (row.status === 'open' && blocking.length > 0) next.set(key, lockedProgress(key));
    if (row.status === 'locked' && blocking.length === 0) {
      next.set(key, { ...row, status: 'open', openedAt: at });
    }
  }

  const changes: ProgressChange[] = [];
  for (const [key, before] of enrollment.rows) {
    const after = next.get(key) ?? before;
    if (after === before) continue;
    const change: ProgressChange = {
      type: 'milestone.opened',
      milestoneKey: key,
      at,
      actor,
      before,
      after,
    };
    if (updated.has(key)) {
      change.type = key === primary.key ? primary.type : 'milestone.reopened';
      if (primary.reason !== undefined) change.reason = primary.reason;
    } else if (after.status === 'locked') {
      change.type = 'milestone.locked';
      const waiting = incompleteDependencies(enrollment, key, next).map(quote).join(', ');
      change.reason = `Waiting again for ${waiting}`;
    }
    if (key === primary.key) changes.unshift(change);
    else changes.push(change);
  }
  return {
    progress: [...enrollment.rows.keys()].map((key) => next.get(key) ?? lockedProgress(key)),
    changes,
  };
}

/**
 * Completes an open milestone, recording how it was verified; dependents whose dependencies
 * are now all satisfied open at the same instant. The source must be one of the milestone's
 * verification methods (`automatic` for auto, `csm`, `client`); a done milestone is refused as
 * such first, and a disallowed source is refused before a locked milestone, since waiting for
 * the dependencies would not help.
 */
export function completeMilestone(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  input: CompleteMilestoneInput,
): TransitionResult {
  const checked = check(program, progress, input.milestoneKey, input.at);
  if (!checked.ok) return checked;
  const { enrollment, row } = checked.value;
  const problem = alreadyDone(row) ?? verificationRefused(program, row, input.source);
  if (problem !== null) return err(problem);
  if (row.status === 'locked') {
    const incomplete = incompleteDependencies(enrollment, row.milestoneKey);
    return err({
      code: 'milestone_locked',
      milestoneKey: row.milestoneKey,
      incompleteDependencies: incomplete,
      message: `Milestone ${quote(row.milestoneKey)} is locked until ${incomplete.map(quote).join(', ') || 'its dependencies'} ${incomplete.length === 1 ? 'is' : 'are'} completed or waived`,
    });
  }
  const completed: MilestoneProgress = {
    ...row,
    status: 'completed',
    completedAt: input.at,
    completionSource: input.source,
    evidence: input.evidence ?? null,
    verifiedBy: input.actor,
  };
  return ok(
    settle(
      enrollment,
      new Map([[row.milestoneKey, completed]]),
      { key: row.milestoneKey, type: 'milestone.completed' },
      input.at,
      input.actor,
    ),
  );
}

/**
 * Waives a locked or open milestone: a manager decides it does not need doing for this
 * account. A waiver satisfies dependents like a completion does.
 */
export function waiveMilestone(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  input: WaiveMilestoneInput,
): TransitionResult {
  const checked = check(program, progress, input.milestoneKey, input.at);
  if (!checked.ok) return checked;
  const { enrollment, row } = checked.value;
  const problem = requireReason(row.milestoneKey, input.reason) ?? alreadyDone(row);
  if (problem !== null) return err(problem);
  const reason = input.reason.trim();
  const waived: MilestoneProgress = {
    ...row,
    status: 'waived',
    waivedAt: input.at,
    waivedBy: input.actor,
    waiverReason: reason,
  };
  return ok(
    settle(
      enrollment,
      new Map([[row.milestoneKey, waived]]),
      { key: row.milestoneKey, type: 'milestone.waived', reason },
      input.at,
      input.actor,
    ),
  );
}

/**
 * Reopens a completed or waived milestone. Completion and waiver fields are cleared on the row
 * (the change event's `before` keeps them). Milestones that were done on the strength of this
 * one would otherwise break the dependency order, so they block the reopen unless `cascade`
 * reopens them too. A reopened milestone is open again (openedAt = `at`) when its own
 * dependencies are satisfied and locked otherwise; open dependents go back to locked.
 */
export function reopenMilestone(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  input: ReopenMilestoneInput,
): TransitionResult {
  const checked = check(program, progress, input.milestoneKey, input.at);
  if (!checked.ok) return checked;
  const { enrollment, row } = checked.value;
  const missingReason = requireReason(row.milestoneKey, input.reason);
  if (missingReason !== null) return err(missingReason);
  if (!isDone(row.status)) {
    return err({
      code: 'not_done',
      milestoneKey: row.milestoneKey,
      status: row.status,
      message: `Milestone ${quote(row.milestoneKey)} is ${row.status}; only a completed or waived milestone can be reopened`,
    });
  }

  const reopened = doneDependentsClosure(enrollment, row.milestoneKey);
  const dependents = [...enrollment.rows.keys()].filter(
    (key) => key !== row.milestoneKey && reopened.has(key),
  );
  if (dependents.length > 0 && input.cascade !== true) {
    return err({
      code: 'dependents_completed',
      milestoneKey: row.milestoneKey,
      dependents,
      message: `Milestone ${quote(row.milestoneKey)} cannot be reopened while ${dependents.map(quote).join(', ')} ${dependents.length === 1 ? 'is' : 'are'} done on the strength of it; reopen with cascade to reopen them too`,
    });
  }

  // Cleared rows start locked; settle opens those whose dependencies are still satisfied.
  const updated = new Map([...reopened].map((key) => [key, lockedProgress(key)]));
  return ok(
    settle(
      enrollment,
      updated,
      { key: row.milestoneKey, type: 'milestone.reopened', reason: input.reason.trim() },
      input.at,
      input.actor,
    ),
  );
}

/** `key` plus every completed or waived milestone that depends on it through done milestones. */
function doneDependentsClosure(enrollment: Enrollment, key: string): Set<string> {
  const closure = new Set([key]);
  const frontier = [key];
  for (let current = frontier.pop(); current !== undefined; current = frontier.pop()) {
    for (const [dependent, deps] of enrollment.deps) {
      const status = enrollment.rows.get(dependent)?.status;
      if (
        status !== undefined &&
        isDone(status) &&
        deps.includes(current) &&
        !closure.has(dependent)
      ) {
        closure.add(dependent);
        frontier.push(dependent);
      }
    }
  }
  return closure;
}
