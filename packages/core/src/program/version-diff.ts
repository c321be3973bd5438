import {
  type AccountSegment,
  applicableMilestones,
  effectiveDependencies,
  isDone,
  lockedProgress,
  type MilestoneProgress,
} from '../progress/progress.js';
import type { Instant } from '../schedule/local-date.js';
import type { ProgramDefinition } from './program.js';

/** A milestone whose target day moved between two versions. */
export interface MilestoneRedated {
  key: string;
  fromDay: number;
  toDay: number;
}

/** A milestone kept by both versions whose dependencies differ. */
export interface DependencyChange {
  key: string;
  added: string[];
  removed: string[];
}

/** What moving from one version of a program to another changes, milestone by milestone. */
export interface ProgramVersionDiff {
  /** Keys of milestones only in the new version, in its order. */
  added: string[];
  /** Keys of milestones only in the old version, in its order. */
  removed: string[];
  redated: MilestoneRedated[];
  dependencyChanges: DependencyChange[];
  /** True when none of the above changed (titles, playbooks and the like may still differ). */
  unchanged: boolean;
}

/** Compares two versions of a program by milestone key: added, removed, re-dated, re-wired. */
export function diffProgramVersions(
  from: ProgramDefinition,
  to: ProgramDefinition,
): ProgramVersionDiff {
  const before = new Map(from.milestones.map((m) => [m.key, m]));
  const after = new Map(to.milestones.map((m) => [m.key, m]));
  const added = to.milestones.filter((m) => !before.has(m.key)).map((m) => m.key);
  const removed = from.milestones.filter((m) => !after.has(m.key)).map((m) => m.key);
  const redated: MilestoneRedated[] = [];
  const dependencyChanges: DependencyChange[] = [];
  for (const milestone of to.milestones) {
    const old = before.get(milestone.key);
    if (old === undefined) continue;
    if (old.targetDay !== milestone.targetDay) {
      redated.push({ key: milestone.key, fromDay: old.targetDay, toDay: milestone.targetDay });
    }
    const oldDeps = new Set(old.dependsOn);
    const newDeps = new Set(milestone.dependsOn);
    const depsAdded = milestone.dependsOn.filter((d) => !oldDeps.has(d));
    const depsRemoved = old.dependsOn.filter((d) => !newDeps.has(d));
    if (depsAdded.length > 0 || depsRemoved.length > 0) {
      dependencyChanges.push({ key: milestone.key, added: depsAdded, removed: depsRemoved });
    }
  }
  return {
    added,
    removed,
    redated,
    dependencyChanges,
    unchanged: added.length + removed.length + redated.length + dependencyChanges.length === 0,
  };
}

/** An enrollment's progress carried over to another version of its program. */
export interface MigratedProgress {
  /** One row per milestone of the new version that applies to the account. */
  progress: MilestoneProgress[];
  /** Rows of milestones the new version no longer has (or no longer applies to the account). */
  removed: MilestoneProgress[];
  /** Keys of milestones that had no row before. */
  added: string[];
}

/**
 * Rebuilds an enrollment's progress for the version it moves to. Completions and waivers are
 * kept by milestone key; every other milestone is open exactly when all its (effective)
 * dependencies are completed or waived, as at enrollment (`initialProgress`), keeping the
 * instant it first opened when it was open already. Milestones the new version lacks are
 * returned as `removed`, so the caller can record what was dropped.
 */
export function migrateProgress(
  to: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  at: Instant,
  account: AccountSegment,
): MigratedProgress {
  const existing = new Map(progress.map((row) => [row.milestoneKey, row]));
  const tracked = applicableMilestones(to, account).map((m) => m.key);
  const trackedSet = new Set(tracked);
  const deps = effectiveDependencies(to, trackedSet);
  const done = (key: string) => {
    const status = existing.get(key)?.status;
    return status !== undefined && isDone(status);
  };
  const rows = tracked.map((key): MilestoneProgress => {
    const row = existing.get(key);
    if (row !== undefined && isDone(row.status)) return row;
    const ready = (deps.get(key) ?? []).every(done);
    if (!ready) return lockedProgress(key);
    if (row?.status === 'open') return row;
    return { ...(row ?? lockedProgress(key)), status: 'open', openedAt: at };
  });
  return {
    progress: rows,
    removed: progress.filter((row) => !trackedSet.has(row.milestoneKey)),
    added: tracked.filter((key) => !existing.has(key)),
  };
}
