import type { Milestone, ProgramDefinition } from '../program/program.js';
import type { Instant } from '../schedule/local-date.js';

export type MilestoneStatus = 'locked' | 'open' | 'completed' | 'waived';
export type CompletionSource = 'automatic' | 'csm' | 'client';

/** Who caused a change: a workspace user, a client contact, an API key or Waymark itself. */
export interface Actor {
  type: 'user' | 'contact' | 'api_key' | 'system';
  id: string | null;
}

export interface MilestoneProgress {
  milestoneKey: string;
  status: MilestoneStatus;
  /** When it became open (dashboards call this "started"); null while locked. */
  openedAt: Instant | null;
  completedAt: Instant | null;
  completionSource: CompletionSource | null;
  /** JSON-safe evidence for the completion (criteria values, a note, a link). */
  evidence: Record<string, unknown> | null;
  verifiedBy: Actor | null;
  waivedAt: Instant | null;
  waivedBy: Actor | null;
  waiverReason: string | null;
}

export interface AccountSegment {
  segment?: string | null;
}

/** Completed and waived milestones both count as satisfied for whatever depends on them. */
export function isDone(status: MilestoneStatus): boolean {
  return status === 'completed' || status === 'waived';
}

/**
 * Milestones that apply to the account: those without `segments`, and those whose segments
 * include the account's. An account without a segment gets only the unrestricted ones.
 */
export function applicableMilestones(
  program: ProgramDefinition,
  account: AccountSegment,
): Milestone[] {
  const segment = account.segment ?? null;
  return program.milestones.filter(
    (milestone) =>
      milestone.segments === undefined ||
      (segment !== null && milestone.segments.includes(segment)),
  );
}

/**
 * The dependencies that gate each tracked milestone. A dependency that is not tracked (it does
 * not apply to the account's segment) counts as satisfied — there is nothing to do for it — but
 * its own dependencies are inherited, so skipping a milestone never lets a later one start
 * before the work that came before the skipped one.
 */
export function effectiveDependencies(
  program: ProgramDefinition,
  trackedKeys: ReadonlySet<string>,
): Map<string, string[]> {
  const byKey = new Map(program.milestones.map((milestone) => [milestone.key, milestone]));
  const resolve = (deps: readonly string[], visited: Set<string>): string[] =>
    deps.flatMap((dep) => {
      if (visited.has(dep)) return []; // guards against cycles in unvalidated input
      visited.add(dep);
      if (trackedKeys.has(dep)) return [dep];
      return resolve(byKey.get(dep)?.dependsOn ?? [], visited);
    });

  const result = new Map<string, string[]>();
  for (const key of trackedKeys) {
    const deps = byKey.get(key)?.dependsOn ?? [];
    result.set(key, [...new Set(resolve(deps, new Set([key])))]);
  }
  return result;
}

export function lockedProgress(milestoneKey: string): MilestoneProgress {
  return {
    milestoneKey,
    status: 'locked',
    openedAt: null,
    completedAt: null,
    completionSource: null,
    evidence: null,
    verifiedBy: null,
    waivedAt: null,
    waivedBy: null,
    waiverReason: null,
  };
}

/**
 * Progress at enrollment: one row per applicable milestone, open when nothing gates it and
 * locked otherwise. The rows are the set of milestones tracked for this enrollment.
 */
export function initialProgress(
  program: ProgramDefinition,
  at: Instant,
  account: AccountSegment,
): MilestoneProgress[] {
  const applicable = applicableMilestones(program, account);
  const deps = effectiveDependencies(program, new Set(applicable.map((m) => m.key)));
  return applicable.map((milestone) => {
    const row = lockedProgress(milestone.key);
    return (deps.get(milestone.key) ?? []).length === 0
      ? { ...row, status: 'open', openedAt: at }
      : row;
  });
}
