import { describe, expect, it } from 'vitest';
import {
  addCalendarDays,
  daysBetween,
  isInstant,
  isLocalDate,
  isoWeekday,
  isValidTimeZone,
  localDateOf,
  ScheduleInputError,
  startOfLocalDay,
} from './local-date.js';

describe('local dates', () => {
  it('takes the calendar date on the wall clock of the zone', () => {
    // 04:59:59.999Z is 23:59:59.999 EST the day before; 05:00Z is midnight.
    expect(localDateOf('2026-03-02T04:59:59.999Z', 'America/New_York')).toBe('2026-03-01');
    expect(localDateOf('2026-03-02T05:00:00.000Z', 'America/New_York')).toBe('2026-03-02');
    expect(localDateOf('2026-03-01T23:30:00.000Z', 'Asia/Tokyo')).toBe('2026-03-02');
    expect(localDateOf('2026-03-01T23:30:00.000Z', 'UTC')).toBe('2026-03-01');
  });

  it('finds the first instant of a local day, across daylight-saving changes', () => {
    expect(startOfLocalDay('2026-03-08', 'America/New_York')).toBe('2026-03-08T05:00:00.000Z');
    expect(startOfLocalDay('2026-03-09', 'America/New_York')).toBe('2026-03-09T04:00:00.000Z');
    expect(startOfLocalDay('2026-10-25', 'Europe/Berlin')).toBe('2026-10-24T22:00:00.000Z');
    expect(startOfLocalDay('2026-10-26', 'Europe/Berlin')).toBe('2026-10-25T23:00:00.000Z');
  });

  it('starts a day whose midnight does not exist at the first wall time that does', () => {
    // Chile moves its clocks from 00:00 to 01:00 on 2026-09-06.
    expect(startOfLocalDay('2026-09-06', 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z');
    expect(localDateOf('2026-09-06T04:00:00.000Z', 'America/Santiago')).toBe('2026-09-06');
    expect(localDateOf('2026-09-06T03:59:59.999Z', 'America/Santiago')).toBe('2026-09-05');
  });

  it('does date arithmetic without time-zone surprises', () => {
    expect(addCalendarDays('2026-02-27', 2)).toBe('2026-03-01');
    expect(addCalendarDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addCalendarDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(30);
    expect(daysBetween('2026-03-31', '2026-03-01')).toBe(-30);
    expect(isoWeekday('2026-03-08')).toBe(7);
    expect(isoWeekday('2026-03-09')).toBe(1);
  });

  it('recognises well-formed dates, instants and zones', () => {
    expect(isLocalDate('2026-02-28')).toBe(true);
    expect(isLocalDate('2026-02-30')).toBe(false);
    expect(isLocalDate('2026-2-28')).toBe(false);
    expect(isInstant('2026-03-01T10:00:00.000Z')).toBe(true);
    expect(isInstant('2026-03-01T10:00:00Z')).toBe(false);
    expect(isInstant('2026-03-01T10:00:00.000+01:00')).toBe(false);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Europe/Atlantis')).toBe(false);
  });

  it('throws a typed error for an unknown time zone', () => {
    const call = () => localDateOf('2026-03-01T10:00:00.000Z', 'Mars/Olympus_Mons');
    expect(call).toThrow(ScheduleInputError);
    expect(call).toThrow('Unknown time zone "Mars/Olympus_Mons"');
    try {
      call();
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid_time_zone', value: 'Mars/Olympus_Mons' });
    }
  });

  it('throws a typed error for malformed dates and instants', () => {
    expect(() => startOfLocalDay('01/03/2026', 'UTC')).toThrow(
      expect.objectContaining({ code: 'invalid_local_date' }),
    );
    expect(() => localDateOf('2026-03-01', 'UTC')).toThrow(
      expect.objectContaining({ code: 'invalid_instant' }),
    );
  });
});
