import { describe, expect, it } from 'vitest';
import { milestone, program } from '../testing/fixtures.js';
import { replayCriteria, summarizeReplay } from './replay-criteria.js';
import { type TrackedActivity, trackProgram } from './track-enrollment.js';

const START = Date.parse('2026-03-02T00:00:00.000Z');
const DAY = 86_400_000;

const auto = (criteria: string) => ({ verification: ['auto' as const], criteria });
const versionWith = (threshold: number) =>
  trackProgram(
    program([
      milestone('sync', 14, [], auto(`event_count("Contact Synced") >= ${threshold}`)),
      // Locked behind sync in a real enrollment; the replay judges its criteria alone.
      milestone('plan', 20, ['sync'], auto('traits.plan == "scale"')),
      milestone('review', 55, ['sync']),
    ]),
  );

const synced = (day: number, id: string): TrackedActivity => ({
  event: 'Contact Synced',
  user: 'u1',
  at: START + day * DAY,
  properties: {},
  ref: { messageId: id, type: 'track', event: 'Contact Synced', timestamp: '' },
});

describe('replayCriteria', () => {
  const events = [synced(-1, 'early'), synced(2, 'a'), synced(5, 'b'), synced(9, 'c')];

  it('finds when each criterion was first met, counting only since the start', () => {
    const met = replayCriteria(versionWith(3), { startedAt: START, traits: {} }, events);
    expect(met.get('sync')).toEqual({ at: START + 9 * DAY, messageId: 'c' });
    expect(met.has('plan')).toBe(false);
    expect(met.has('review')).toBe(false);
  });

  it('meets a lower threshold earlier, and a trait criterion at the start', () => {
    const met = replayCriteria(
      versionWith(2),
      { startedAt: START, traits: { plan: 'scale' } },
      events,
    );
    expect(met.get('sync')).toEqual({ at: START + 5 * DAY, messageId: 'b' });
    expect(met.get('plan')).toEqual({ at: START, messageId: null });
  });
});

describe('summarizeReplay', () => {
  it('counts the enrollments that met a criterion and the median days it took', () => {
    const summary = summarizeReplay([
      { startedAt: START, met: { at: START + 2 * DAY, messageId: 'x' } },
      { startedAt: START, met: { at: START + 9.5 * DAY, messageId: 'y' } },
      { startedAt: START + DAY, met: { at: START + 5 * DAY, messageId: 'z' } },
      { startedAt: START, met: undefined },
    ]);
    expect(summary).toEqual({
      met: 3,
      medianDays: 4,
      firstAt: new Date(START + 2 * DAY).toISOString(),
      lastAt: new Date(START + 9.5 * DAY).toISOString(),
    });
    expect(summarizeReplay([{ startedAt: START, met: undefined }])).toEqual({
      met: 0,
      medianDays: null,
      firstAt: null,
      lastAt: null,
    });
  });
});
