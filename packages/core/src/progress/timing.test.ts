import { describe, expect, it } from 'vitest';
import { lockedProgress, type MilestoneProgress } from './progress.js';
import { milestoneTiming } from './timing.js';

// Due on 2026-03-10 in New York: the day ends at 2026-03-11T04:00Z (EDT).
const due = { dueDate: '2026-03-10', dueAt: '2026-03-11T04:00:00.000Z' };
const zone = 'America/New_York';
const open: MilestoneProgress = {
  ...lockedProgress('setup'),
  status: 'open',
  openedAt: '2026-03-01T12:00:00.000Z',
};
const completedAt = (instant: string): MilestoneProgress => ({
  ...open,
  status: 'completed',
  completedAt: instant,
  completionSource: 'csm',
  verifiedBy: { type: 'user', id: 'u1' },
});

describe('milestoneTiming', () => {
  it('is not overdue through the last local minute of the due date', () => {
    expect(milestoneTiming(open, due, '2026-03-11T03:59:59.999Z', zone)).toEqual({
      overdueDays: 0,
      atRisk: false,
      completedOnTime: null,
    });
    expect(milestoneTiming(open, due, '2026-03-11T04:00:00.000Z', zone).overdueDays).toBe(1);
  });

  it('counts whole local days and turns at risk at the threshold', () => {
    // 2026-03-17 local is 7 days after the 10th.
    expect(milestoneTiming(open, due, '2026-03-17T15:00:00.000Z', zone)).toEqual({
      overdueDays: 7,
      atRisk: true,
      completedOnTime: null,
    });
    expect(milestoneTiming(open, due, '2026-03-16T15:00:00.000Z', zone).atRisk).toBe(false);
    expect(
      milestoneTiming(open, due, '2026-03-12T15:00:00.000Z', zone, { atRiskAfterDays: 2 }).atRisk,
    ).toBe(true);
  });

  it('counts a locked milestone past its due date as overdue too', () => {
    expect(milestoneTiming(lockedProgress('setup'), due, '2026-03-20T12:00:00.000Z', zone)).toEqual(
      {
        overdueDays: 10,
        atRisk: true,
        completedOnTime: null,
      },
    );
  });

  it('judges completion against the end of the local due day', () => {
    const late = milestoneTiming(
      completedAt('2026-03-11T04:00:00.000Z'),
      due,
      '2026-04-01T00:00:00.000Z',
      zone,
    );
    expect(late).toEqual({ overdueDays: 0, atRisk: false, completedOnTime: false });
    const justInTime = milestoneTiming(
      completedAt('2026-03-11T03:59:59.999Z'),
      due,
      '2026-04-01T00:00:00.000Z',
      zone,
    );
    expect(justInTime.completedOnTime).toBe(true);
  });

  it('leaves a waived milestone without overdue days or on-time verdict', () => {
    const waived: MilestoneProgress = {
      ...open,
      status: 'waived',
      waivedAt: '2026-03-20T00:00:00.000Z',
      waivedBy: { type: 'user', id: 'm1' },
      waiverReason: 'Not needed',
    };
    expect(milestoneTiming(waived, due, '2026-04-01T00:00:00.000Z', zone)).toEqual({
      overdueDays: 0,
      atRisk: false,
      completedOnTime: null,
    });
  });

  it('refuses a threshold below one day', () => {
    expect(() =>
      milestoneTiming(open, due, '2026-03-01T00:00:00.000Z', zone, { atRiskAfterDays: 0 }),
    ).toThrow(RangeError);
  });
});
