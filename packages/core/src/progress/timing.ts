import { daysBetween, type Instant, instantMillis, localDateOf } from '../schedule/local-date.js';
import type { MilestoneDue } from '../schedule/milestone-schedule.js';
import { isDone, type MilestoneProgress } from './progress.js';

export const DEFAULT_AT_RISK_AFTER_DAYS = 7;

export interface TimingSettings {
  /** Whole days overdue after which an incomplete milestone is at risk (≥ 1); default 7. */
  atRiskAfterDays: number;
}

export interface MilestoneTiming {
  /** Whole local days since the due date passed; 0 when not yet due, completed or waived. */
  overdueDays: number;
  /** Not completed or waived, and at least `atRiskAfterDays` overdue. */
  atRisk: boolean;
  /** Completed before the due date ended; null while not completed, and for waivers. */
  completedOnTime: boolean | null;
}

export function resolveTimingSettings(settings: Partial<TimingSettings> = {}): TimingSettings {
  const atRiskAfterDays = settings.atRiskAfterDays ?? DEFAULT_AT_RISK_AFTER_DAYS;
  // 0 would mark every milestone at risk before it is even due.
  if (!Number.isInteger(atRiskAfterDays) || atRiskAfterDays < 1) {
    throw new RangeError(
      `atRiskAfterDays must be a whole number of days ≥ 1, got ${atRiskAfterDays}`,
    );
  }
  return { atRiskAfterDays };
}

/**
 * Timing derived at `now`, never stored, so it cannot go stale. Overdue days are counted on
 * the account's wall calendar: a milestone due on the 10th is 1 day overdue all through the
 * 11th, whatever the hour.
 */
export function milestoneTiming(
  progress: MilestoneProgress,
  due: Pick<MilestoneDue, 'dueDate' | 'dueAt'>,
  now: Instant,
  timeZone: string,
  settings: Partial<TimingSettings> = {},
): MilestoneTiming {
  const { atRiskAfterDays } = resolveTimingSettings(settings);
  const done = isDone(progress.status);
  const overdueDays = done ? 0 : Math.max(0, daysBetween(due.dueDate, localDateOf(now, timeZone)));
  const completedOnTime =
    progress.status === 'completed' && progress.completedAt !== null
      ? instantMillis(progress.completedAt) < instantMillis(due.dueAt)
      : null;
  return { overdueDays, atRisk: !done && overdueDays >= atRiskAfterDays, completedOnTime };
}
