import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, businessDayTest } from './business-days.js';
import { addCalendarDays, isoWeekday } from './local-date.js';

// 2026-03-06 is a Friday, 2026-03-07 a Saturday.
const business = { dayCounting: 'business' as const };

describe('addDays', () => {
  it('counts calendar days straight through weekends and holidays', () => {
    expect(addDays('2026-03-06', 3, { dayCounting: 'calendar', holidays: ['2026-03-07'] })).toBe(
      '2026-03-09',
    );
  });

  it('skips the weekend in business counting', () => {
    expect(addDays('2026-03-06', 1, business)).toBe('2026-03-09'); // Fri + 1 → Mon
    expect(addDays('2026-03-06', 5, business)).toBe('2026-03-13'); // Fri + 5 → next Fri
    expect(addDays('2026-03-09', 4, business)).toBe('2026-03-13'); // Mon + 4 → Fri
  });

  it('skips holidays in business counting', () => {
    expect(addDays('2026-03-06', 1, { ...business, holidays: ['2026-03-09'] })).toBe('2026-03-10');
    expect(addDays('2026-03-06', 2, { ...business, holidays: ['2026-03-09', '2026-03-10'] })).toBe(
      '2026-03-12',
    );
  });

  it('day 0 is the start when it is a business day, else the next business day', () => {
    expect(addDays('2026-03-06', 0, business)).toBe('2026-03-06');
    expect(addDays('2026-03-07', 0, business)).toBe('2026-03-09');
    expect(addDays('2026-03-07', 1, business)).toBe('2026-03-09');
    expect(addDays('2026-03-07', 0, { ...business, holidays: ['2026-03-09'] })).toBe('2026-03-10');
  });

  it('uses a custom weekend (Friday and Saturday)', () => {
    expect(addDays('2026-03-05', 1, { ...business, weekend: [5, 6] })).toBe('2026-03-08'); // Thu → Sun
  });

  it('counts backwards for negative days', () => {
    expect(addDays('2026-03-09', -1, business)).toBe('2026-03-06');
    expect(addDays('2026-03-09', -3, { dayCounting: 'calendar' })).toBe('2026-03-06');
  });

  it('refuses a weekend of seven days, bad weekday numbers and fractional days', () => {
    expect(() => addDays('2026-03-06', 1, { ...business, weekend: [1, 2, 3, 4, 5, 6, 7] })).toThrow(
      RangeError,
    );
    expect(() => addDays('2026-03-06', 1, { ...business, weekend: [0] })).toThrow(RangeError);
    expect(() => addDays('2026-03-06', 1.5, business)).toThrow(RangeError);
    expect(() => addDays('2026-03-06', 1, { ...business, holidays: ['March 9'] })).toThrow(
      expect.objectContaining({ code: 'invalid_local_date' }),
    );
  });

  const localDate = fc
    .date({
      min: new Date('2020-01-01T00:00:00Z'),
      max: new Date('2030-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 10));
  const holidays = fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 10 });

  it('property: day N ≥ 1 is a business day with exactly N business days in (start, due]', () => {
    fc.assert(
      fc.property(localDate, fc.integer({ min: 1, max: 40 }), holidays, (start, days, offsets) => {
        const rules = { ...business, holidays: offsets.map((o) => addCalendarDays(start, o)) };
        const isBusinessDay = businessDayTest(rules);
        const due = addDays(start, days, rules);
        expect(isBusinessDay(due)).toBe(true);
        let counted = 0;
        for (let d = addCalendarDays(start, 1); d <= due; d = addCalendarDays(d, 1)) {
          if (isBusinessDay(d)) counted += 1;
        }
        expect(counted).toBe(days);
      }),
    );
  });

  it('property: business due dates never decrease as the day number grows', () => {
    fc.assert(
      fc.property(localDate, fc.integer({ min: 0, max: 30 }), holidays, (start, days, offsets) => {
        const rules = { ...business, holidays: offsets.map((o) => addCalendarDays(start, o)) };
        const earlier = addDays(start, days, rules);
        const later = addDays(start, days + 1, rules);
        expect(later > earlier || (days === 0 && later === earlier)).toBe(true);
        expect([6, 7]).not.toContain(isoWeekday(later));
      }),
    );
  });
});
