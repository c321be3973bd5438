import type { ProgramDefinition } from '../program/program.js';
import { isDone, type MilestoneProgress } from '../progress/progress.js';
import { milestoneTiming, resolveTimingSettings, type TimingSettings } from '../progress/timing.js';
import { type Instant, localDateOf } from '../schedule/local-date.js';
import type { MilestoneDue } from '../schedule/milestone-schedule.js';

export type ScheduleStatusValue = 'on_track' | 'ahead' | 'behind' | 'at_risk';

export interface ScheduleStatus {
  status: ScheduleStatusValue;
  /** Tracked milestones due on or before today (local date in the account's zone). */
  expectedByNow: number;
  /** Of those, how many are done (completed or waived). */
  doneOfExpected: number;
  /** Done milestones overall, due or not. */
  doneTotal: number;
  /** doneOfExpected / expectedByNow; null when nothing is expected yet. */
  ratio: number | null;
  /** The largest overdueDays among incomplete milestones; 0 when none is overdue. */
  mostOverdueDays: number;
}

/**
 * Where an account stands against its schedule. The tracked milestones are the progress rows
 * (the applicable ones); "done" means completed or waived. First rule that matches wins:
 *
 * 1. at_risk  — some incomplete milestone is at least `atRiskAfterDays` days overdue.
 * 2. behind   — some incomplete milestone is overdue (its due day has passed),
 *               e.g. on day 20 with 2 of the 5 milestones due by then done (ratio 0.4).
 * 3. ahead    — nothing is overdue and more milestones are done than are expected by now.
 * 4. on_track — otherwise.
 *
 * A milestone due today counts as expected (it is in the ratio) but is not late: the
 * account stays on track through the due day, and is behind from the next day on.
 */
export function scheduleStatus(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  schedule: readonly MilestoneDue[],
  now: Instant,
  timeZone: string,
  settings: Partial<TimingSettings> = {},
): ScheduleStatus {
  const resolved = resolveTimingSettings(settings);
  const dueByKey = new Map(schedule.map((due) => [due.milestoneKey, due]));
  const programKeys = new Set(program.milestones.map((milestone) => milestone.key));
  const today = localDateOf(now, timeZone);

  let expectedByNow = 0;
  let doneOfExpected = 0;
  let doneTotal = 0;
  let mostOverdueDays = 0;
  let atRisk = false;
  for (const row of progress) {
    const due = dueByKey.get(row.milestoneKey);
    // A row without a due date means progress and schedule come from different program versions.
    if (due === undefined || !programKeys.has(row.milestoneKey)) {
      throw new Error(
        `Milestone "${row.milestoneKey}" has progress but no due date in this program`,
      );
    }
    const done = isDone(row.status);
    const timing = milestoneTiming(row, due, now, timeZone, resolved);
    if (done) doneTotal += 1;
    if (due.dueDate <= today) {
      expectedByNow += 1;
      if (done) doneOfExpected += 1;
    }
    mostOverdueDays = Math.max(mostOverdueDays, timing.overdueDays);
    atRisk ||= timing.atRisk;
  }

  const status: ScheduleStatusValue = atRisk
    ? 'at_risk'
    : mostOverdueDays > 0
      ? 'behind'
      : mostOverdueDays === 0 && doneTotal > expectedByNow
        ? 'ahead'
        : 'on_track';
  return {
    status,
    expectedByNow,
    doneOfExpected,
    doneTotal,
    ratio: expectedByNow === 0 ? null : doneOfExpected / expectedByNow,
    mostOverdueDays,
  };
}
