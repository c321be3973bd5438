import type { ProgramDefinition } from '../program/program.js';
import { addBusinessDays, businessDayTest } from './business-days.js';
import {
  addCalendarDays,
  assertTimeZone,
  type Instant,
  type LocalDate,
  localDateOf,
  startOfLocalDay,
} from './local-date.js';

export interface EnrollmentClock {
  startedAt: Instant;
  /** The account's IANA time zone: due dates are days on its wall calendar. */
  timeZone: string;
}

export interface WorkCalendar {
  holidays: readonly LocalDate[];
  /** ISO weekdays off; default Saturday and Sunday. */
  weekend?: readonly number[];
}

export interface MilestoneDue {
  milestoneKey: string;
  /** The last local day on which completing the milestone is on time. */
  dueDate: LocalDate;
  /** When the due date ends in the account's zone (start of the next local day), exclusive. */
  dueAt: Instant;
}

/**
 * Due dates for every milestone of the program, in program order. The schedule depends only on
 * the program, the enrollment start and the calendar, never on progress, so a due date never
 * moves because something else was completed, waived or reopened. Milestones that do not apply
 * to an account are scheduled too; callers keep the ones they track.
 *
 * Throws ScheduleInputError for an unknown time zone or a malformed start or holiday.
 */
export function milestoneSchedule(
  program: ProgramDefinition,
  enrollment: EnrollmentClock,
  calendar: WorkCalendar,
): MilestoneDue[] {
  assertTimeZone(enrollment.timeZone);
  const start = localDateOf(enrollment.startedAt, enrollment.timeZone);
  const business = program.schedule.dayCounting === 'business';
  const isBusinessDay = business ? businessDayTest(calendar) : null;

  return program.milestones.map((milestone) => {
    const dueDate =
      isBusinessDay === null
        ? addCalendarDays(start, milestone.targetDay)
        : addBusinessDays(start, milestone.targetDay, isBusinessDay);
    return {
      milestoneKey: milestone.key,
      dueDate,
      dueAt: startOfLocalDay(addCalendarDays(dueDate, 1), enrollment.timeZone),
    };
  });
}
