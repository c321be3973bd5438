import type { DayCounting } from '../program/program.js';
import {
  addCalendarDays,
  isLocalDate,
  isoWeekday,
  type LocalDate,
  ScheduleInputError,
} from './local-date.js';

export interface DayCountingRules {
  dayCounting: DayCounting;
  /** Days that are not business days; ignored in calendar counting. */
  holidays?: readonly LocalDate[];
  /** ISO weekday numbers (1 = Monday … 7 = Sunday) that are not business days; default [6, 7]. */
  weekend?: readonly number[];
}

export const DEFAULT_WEEKEND: readonly number[] = [6, 7];

/** Builds the business-day test once per schedule rather than once per day counted. */
export function businessDayTest(
  rules: Pick<DayCountingRules, 'holidays' | 'weekend'>,
): (date: LocalDate) => boolean {
  const weekend = new Set(rules.weekend ?? DEFAULT_WEEKEND);
  for (const day of weekend) {
    if (!Number.isInteger(day) || day < 1 || day > 7) {
      throw new RangeError(`Weekend day ${day} is not an ISO weekday (1 = Monday … 7 = Sunday)`);
    }
  }
  // Counting would never end if no weekday were a business day.
  if (weekend.size === 7) throw new RangeError('The weekend cannot cover all seven days');
  const holidays = new Set(rules.holidays ?? []);
  for (const holiday of holidays) {
    if (!isLocalDate(holiday)) {
      throw new ScheduleInputError(
        'invalid_local_date',
        holiday,
        `Invalid holiday "${holiday}": expected a calendar date as YYYY-MM-DD`,
      );
    }
  }
  return (date) => !weekend.has(isoWeekday(date)) && !holidays.has(date);
}

/**
 * The date `days` days after `start`.
 *
 * Calendar counting: plain date arithmetic.
 * Business counting: day N (N ≥ 1) is the N-th business day after `start`, whether or not
 * `start` itself is one. Day 0 is `start` when it is a business day, otherwise the next
 * business day: a due date should never fall on a day nobody works. So for a Saturday start,
 * day 0 and day 1 are both the Monday — due dates never decrease with the day number, but
 * they may coincide. Negative N mirrors this: the N-th business day before `start`.
 */
export function addDays(start: LocalDate, days: number, rules: DayCountingRules): LocalDate {
  if (!Number.isInteger(days)) throw new RangeError(`Day count ${days} is not a whole number`);
  if (rules.dayCounting === 'calendar') return addCalendarDays(start, days);
  return addBusinessDays(start, days, businessDayTest(rules));
}

export function addBusinessDays(
  start: LocalDate,
  days: number,
  isBusinessDay: (date: LocalDate) => boolean,
): LocalDate {
  let date = addCalendarDays(start, 0); // validates `start`
  if (days === 0) {
    while (!isBusinessDay(date)) date = addCalendarDays(date, 1);
    return date;
  }
  const step = days > 0 ? 1 : -1;
  for (let remaining = Math.abs(days); remaining > 0; ) {
    date = addCalendarDays(date, step);
    if (isBusinessDay(date)) remaining -= 1;
  }
  return date;
}
