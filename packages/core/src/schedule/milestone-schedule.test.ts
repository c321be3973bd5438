import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { milestone, program, sampleProgram } from '../testing/fixtures.js';
import { localDateOf } from './local-date.js';
import { milestoneSchedule } from './milestone-schedule.js';

const noHolidays = { holidays: [] };

describe('milestoneSchedule', () => {
  it('dates each milestone from the local start date and ends it at the next local midnight', () => {
    // 2026-03-01T03:00Z is still February 28 in New York (22:00 EST).
    const schedule = milestoneSchedule(
      program([milestone('kickoff', 0), milestone('setup', 3)]),
      { startedAt: '2026-03-01T03:00:00.000Z', timeZone: 'America/New_York' },
      noHolidays,
    );
    expect(schedule).toEqual([
      { milestoneKey: 'kickoff', dueDate: '2026-02-28', dueAt: '2026-03-01T05:00:00.000Z' },
      { milestoneKey: 'setup', dueDate: '2026-03-03', dueAt: '2026-03-04T05:00:00.000Z' },
    ]);
  });

  it('moves dueAt by an hour across the New York spring-forward (2026-03-08)', () => {
    const schedule = milestoneSchedule(
      program([milestone('before', 6), milestone('on', 7), milestone('after', 8)]),
      { startedAt: '2026-03-01T15:00:00.000Z', timeZone: 'America/New_York' },
      noHolidays,
    );
    expect(schedule.map(({ dueDate, dueAt }) => [dueDate, dueAt])).toEqual([
      ['2026-03-07', '2026-03-08T05:00:00.000Z'], // EST, UTC-5
      ['2026-03-08', '2026-03-09T04:00:00.000Z'], // EDT, UTC-4: the due day had 23 hours
      ['2026-03-09', '2026-03-10T04:00:00.000Z'],
    ]);
  });

  it('moves dueAt by an hour across the Berlin fall-back (2026-10-25)', () => {
    const schedule = milestoneSchedule(
      program([milestone('before', 4), milestone('on', 5)]),
      { startedAt: '2026-10-20T08:00:00.000Z', timeZone: 'Europe/Berlin' },
      noHolidays,
    );
    expect(schedule.map(({ dueDate, dueAt }) => [dueDate, dueAt])).toEqual([
      ['2026-10-24', '2026-10-24T22:00:00.000Z'], // CEST, UTC+2
      ['2026-10-25', '2026-10-25T23:00:00.000Z'], // CET, UTC+1: the due day had 25 hours
    ]);
  });

  it('counts business days over a weekend and a holiday', () => {
    // Starts Friday 2026-03-06; Monday 03-09 is a holiday.
    const schedule = milestoneSchedule(
      program([milestone('day0', 0), milestone('day1', 1), milestone('day5', 5)], {
        schedule: { dayCounting: 'business' },
      }),
      { startedAt: '2026-03-06T09:00:00.000Z', timeZone: 'Europe/Berlin' },
      { holidays: ['2026-03-09'] },
    );
    expect(schedule.map((s) => [s.milestoneKey, s.dueDate])).toEqual([
      ['day0', '2026-03-06'],
      ['day1', '2026-03-10'],
      ['day5', '2026-03-16'],
    ]);
    expect(schedule[1]?.dueAt).toBe('2026-03-10T23:00:00.000Z');
  });

  it('ignores holidays in calendar counting', () => {
    const [due] = milestoneSchedule(
      program([milestone('a', 3)]),
      { startedAt: '2026-03-06T09:00:00.000Z', timeZone: 'UTC' },
      { holidays: ['2026-03-09'] },
    );
    expect(due?.dueDate).toBe('2026-03-09');
  });

  it('throws a ScheduleInputError for an unknown time zone', () => {
    expect(() =>
      milestoneSchedule(
        sampleProgram,
        { startedAt: '2026-03-01T00:00:00.000Z', timeZone: 'Nowhere/City' },
        noHolidays,
      ),
    ).toThrow(expect.objectContaining({ name: 'ScheduleInputError', code: 'invalid_time_zone' }));
  });

  const zones = fc.constantFrom(
    'UTC',
    'America/New_York',
    'Europe/Berlin',
    'Asia/Kolkata',
    'Australia/Lord_Howe',
    'Pacific/Kiritimati',
    'America/Santiago',
  );
  const instant = fc
    .date({
      min: new Date('2024-01-01T00:00:00Z'),
      max: new Date('2030-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());
  const targetDays = fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 8 });

  it('property: changing one target day never changes another milestone’s due date', () => {
    fc.assert(
      fc.property(
        targetDays,
        fc.nat(),
        fc.integer({ min: 0, max: 120 }),
        fc.constantFrom('calendar' as const, 'business' as const),
        instant,
        zones,
        fc.array(fc.integer({ min: 0, max: 170 }), { maxLength: 8 }),
        (days, pick, newDay, dayCounting, startedAt, timeZone, holidayOffsets) => {
          const index = pick % days.length;
          const build = (list: number[]) =>
            program(
              list.map((d, i) => milestone(`m${i}`, d)),
              { schedule: { dayCounting } },
            );
          const start = new Date(startedAt).getTime();
          const holidays = holidayOffsets.map((o) =>
            new Date(start + o * 86_400_000).toISOString().slice(0, 10),
          );
          const enrollment = { startedAt, timeZone };
          const before = milestoneSchedule(build(days), enrollment, { holidays });
          const after = milestoneSchedule(
            build(days.map((d, i) => (i === index ? newDay : d))),
            enrollment,
            { holidays },
          );
          before.forEach((due, i) => {
            if (i !== index) expect(after[i]).toEqual(due);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('property: dueAt is the first instant of the day after the due date, in the zone', () => {
    fc.assert(
      fc.property(instant, zones, fc.integer({ min: 0, max: 90 }), (startedAt, timeZone, day) => {
        const [due] = milestoneSchedule(
          program([milestone('a', day)]),
          { startedAt, timeZone },
          noHolidays,
        );
        if (due === undefined) throw new Error('one milestone, one due date');
        const lastMoment = new Date(new Date(due.dueAt).getTime() - 1).toISOString();
        expect(localDateOf(lastMoment, timeZone)).toBe(due.dueDate);
        expect(localDateOf(due.dueAt, timeZone)).not.toBe(due.dueDate);
      }),
      { numRuns: 200 },
    );
  });
});
