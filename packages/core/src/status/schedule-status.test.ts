import { describe, expect, it } from 'vitest';
import type { ProgramDefinition } from '../program/program.js';
import { initialProgress, type MilestoneProgress } from '../progress/progress.js';
import { completeMilestone, waiveMilestone } from '../progress/transitions.js';
import { milestoneSchedule } from '../schedule/milestone-schedule.js';
import { csm, milestone, program } from '../testing/fixtures.js';
import { scheduleStatus } from './schedule-status.js';

// Starts 2026-03-02 (local, New York); "day N" below is the local date start + N.
const enrollment = { startedAt: '2026-03-02T14:00:00.000Z', timeZone: 'America/New_York' };
const noon = (day: number) => new Date(Date.UTC(2026, 2, 2 + day, 17)).toISOString();

// Seven milestones, five of them due by day 20.
const ladder = program([3, 8, 14, 17, 20, 30, 45].map((day) => milestone(`day-${day}`, day)));

function progressWith(
  p: ProgramDefinition,
  done: { completed?: string[]; waived?: string[] },
): MilestoneProgress[] {
  let progress = initialProgress(p, enrollment.startedAt, {});
  for (const key of done.completed ?? []) {
    const r = completeMilestone(p, progress, {
      milestoneKey: key,
      at: noon(1),
      source: 'csm',
      actor: csm,
    });
    if (!r.ok) throw new Error(r.error.message);
    progress = r.value.progress;
  }
  for (const key of done.waived ?? []) {
    const r = waiveMilestone(p, progress, {
      milestoneKey: key,
      at: noon(1),
      actor: csm,
      reason: 'n/a',
    });
    if (!r.ok) throw new Error(r.error.message);
    progress = r.value.progress;
  }
  return progress;
}

function statusOn(day: number, done: { completed?: string[]; waived?: string[] }, p = ladder) {
  const schedule = milestoneSchedule(p, enrollment, { holidays: [] });
  return scheduleStatus(p, progressWith(p, done), schedule, noon(day), enrollment.timeZone, {});
}

describe('scheduleStatus', () => {
  it('day 20, 5 milestones due, 2 completed: behind with ratio 0.4', () => {
    // The three missed ones are 6, 3 and 0 days overdue: late, but not yet at risk.
    expect(statusOn(20, { completed: ['day-3', 'day-8'] })).toEqual({
      status: 'behind',
      expectedByNow: 5,
      doneOfExpected: 2,
      doneTotal: 2,
      ratio: 0.4,
      mostOverdueDays: 6,
    });
  });

  it('turns at risk once an incomplete milestone is atRiskAfterDays overdue', () => {
    expect(statusOn(21, { completed: ['day-3', 'day-8'] })).toMatchObject({
      status: 'at_risk',
      mostOverdueDays: 7,
    });
    const schedule = milestoneSchedule(ladder, enrollment, { holidays: [] });
    const progress = progressWith(ladder, { completed: ['day-3', 'day-8'] });
    expect(
      scheduleStatus(ladder, progress, schedule, noon(21), enrollment.timeZone, {
        atRiskAfterDays: 8,
      }).status,
    ).toBe('behind');
  });

  it('is on track when exactly what is due is done', () => {
    expect(statusOn(10, { completed: ['day-3', 'day-8'] })).toEqual({
      status: 'on_track',
      expectedByNow: 2,
      doneOfExpected: 2,
      doneTotal: 2,
      ratio: 1,
      mostOverdueDays: 0,
    });
  });

  it('is ahead when more is done than is due, and counts waivers as done', () => {
    expect(statusOn(10, { completed: ['day-3', 'day-14'], waived: ['day-8'] })).toMatchObject({
      status: 'ahead',
      expectedByNow: 2,
      doneOfExpected: 2,
      doneTotal: 3,
    });
  });

  it('counts a milestone due today as expected, but not yet as late', () => {
    expect(statusOn(8, { completed: ['day-3'] })).toMatchObject({
      status: 'on_track',
      expectedByNow: 2,
      doneOfExpected: 1,
      ratio: 0.5,
      mostOverdueDays: 0,
    });
    expect(statusOn(9, { completed: ['day-3'] })).toMatchObject({
      status: 'behind',
      mostOverdueDays: 1,
    });
  });

  it('has no ratio before anything is due', () => {
    expect(statusOn(1, {})).toMatchObject({ status: 'on_track', expectedByNow: 0, ratio: null });
    expect(statusOn(1, { completed: ['day-3'] })).toMatchObject({ status: 'ahead', ratio: null });
  });

  it('judges "today" on the account’s wall calendar', () => {
    const schedule = milestoneSchedule(ladder, enrollment, { holidays: [] });
    const progress = progressWith(ladder, {});
    // 2026-03-05T03:00Z is still March 4 (day 2) in New York but March 5 (day 3) in UTC.
    const now = '2026-03-05T03:00:00.000Z';
    expect(scheduleStatus(ladder, progress, schedule, now, 'America/New_York').expectedByNow).toBe(
      0,
    );
    expect(scheduleStatus(ladder, progress, schedule, now, 'UTC').expectedByNow).toBe(1);
  });

  it('only counts the milestones tracked for the account', () => {
    const p = program([
      milestone('setup', 3),
      milestone('sso', 5, [], { segments: ['enterprise'] }),
    ]);
    expect(statusOn(10, { completed: ['setup'] }, p)).toMatchObject({
      status: 'on_track',
      expectedByNow: 1,
      doneTotal: 1,
    });
  });

  it('refuses progress that has no due date in the schedule', () => {
    const progress = progressWith(ladder, {});
    expect(() => scheduleStatus(ladder, progress, [], noon(5), enrollment.timeZone)).toThrow(
      'Milestone "day-3" has progress but no due date in this program',
    );
  });
});
