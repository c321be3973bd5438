import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialProgress } from '../progress/progress.js';
import { milestone, program } from '../testing/fixtures.js';
import { emptyMetricState } from './metric-state.js';
import {
  advanceEnrollment,
  TRACKING_ACTOR,
  type TrackedActivity,
  trackProgram,
} from './track-enrollment.js';

const START = Date.parse('2026-03-02T00:00:00.000Z');
const HOUR = 3_600_000;

const auto = (criteria: string) => ({ verification: ['auto' as const], criteria });
const tracked = trackProgram(
  program([
    milestone('sync', 14, [], auto('event_count("Contact Synced", {"status": "ok"}) >= 3')),
    milestone('activation', 25, ['sync'], auto('active_users(duration("168h")) >= 2')),
    milestone('plan', 30, [], auto('traits.plan == "enterprise"')),
    milestone('review', 55, ['activation']),
  ]),
);

let sequence = 0;
function activity(
  at: number,
  event: string | null,
  user: string | null,
  properties: Record<string, unknown> = {},
): TrackedActivity {
  sequence += 1;
  return {
    at,
    event,
    user,
    properties,
    ref: {
      messageId: `m${sequence}`,
      type: event === null ? 'page' : 'track',
      event,
      timestamp: new Date(at).toISOString(),
    },
  };
}

function start() {
  return {
    tracked,
    progress: initialProgress(tracked.program, new Date(START).toISOString(), {}),
    state: emptyMetricState(),
    traits: {},
    startedAt: START,
  };
}

const synced = (at: number, user = 'u1') =>
  activity(at, 'Contact Synced', user, { status: 'ok', records: 40 });

describe('advanceEnrollment', () => {
  it('completes a milestone at the time of the event that satisfied it, with evidence', () => {
    const events = [synced(START + HOUR), synced(START + 2 * HOUR), synced(START + 3 * HOUR)];
    const result = advanceEnrollment({ ...start(), activities: events });
    expect(result.needsReplay).toBe(false);
    const sync = result.progress.find((p) => p.milestoneKey === 'sync');
    expect(sync).toMatchObject({
      status: 'completed',
      completedAt: new Date(START + 3 * HOUR).toISOString(),
      completionSource: 'automatic',
      verifiedBy: TRACKING_ACTOR,
      evidence: {
        metrics: { 'event_count:Contact Synced:{"status":"ok"}:all': 3 },
        event: events[2]?.ref,
      },
    });
    // Completing sync opens activation; one user is not enough for it.
    expect(result.progress.find((p) => p.milestoneKey === 'activation')?.status).toBe('open');
    expect(result.changes.map((c) => `${c.type} ${c.milestoneKey}`)).toEqual([
      'milestone.completed sync',
      'milestone.opened activation',
    ]);
  });

  it('ignores events whose properties do not match the filter, and counts only since the start', () => {
    const before = synced(START - HOUR);
    const failed = activity(START + HOUR, 'Contact Synced', 'u1', { status: 'failed' });
    const result = advanceEnrollment({
      ...start(),
      activities: [before, failed, synced(START + 2 * HOUR), synced(START + 3 * HOUR)],
    });
    expect(result.progress.find((p) => p.milestoneKey === 'sync')?.status).toBe('open');
  });

  it('evaluates a milestone the moment a completion opens it, with the metrics kept meanwhile', () => {
    // Two users were active before sync completed: activation completes with sync.
    const events = [
      activity(START + HOUR, null, 'u2'),
      synced(START + 2 * HOUR),
      synced(START + 3 * HOUR),
      synced(START + 4 * HOUR),
    ];
    const result = advanceEnrollment({ ...start(), activities: events });
    const activation = result.progress.find((p) => p.milestoneKey === 'activation');
    expect(activation?.status).toBe('completed');
    expect(activation?.completedAt).toBe(new Date(START + 4 * HOUR).toISOString());
    expect(activation?.evidence).toMatchObject({ metrics: { 'active_users:604800': 2 } });
    // review is verified by the CSM: never completed from data.
    expect(result.progress.find((p) => p.milestoneKey === 'review')?.status).toBe('open');
  });

  it('counts only the users of the window, in whole hours', () => {
    const { progress } = advanceEnrollment({
      ...start(),
      activities: [synced(START), synced(START + 1), synced(START + 2)],
    });
    const week = 168 * HOUR;
    const late = advanceEnrollment({
      ...start(),
      progress,
      activities: [activity(START + HOUR, null, 'u2'), activity(START + HOUR + week, null, 'u3')],
    });
    // u1 and u2 were last seen 168 hours before u3: outside the window.
    expect(late.progress.find((p) => p.milestoneKey === 'activation')?.status).toBe('open');
    const inside = advanceEnrollment({
      ...start(),
      progress,
      activities: [
        activity(START + HOUR, null, 'u2'),
        activity(START + HOUR + week - HOUR, null, 'u3'),
      ],
    });
    expect(inside.progress.find((p) => p.milestoneKey === 'activation')?.status).toBe('completed');
  });

  it('completes a trait criterion when a call sets the trait', () => {
    const group: TrackedActivity = {
      ...activity(START + 5 * HOUR, null, null),
      traits: { plan: 'enterprise', seats: 40 },
    };
    const result = advanceEnrollment({ ...start(), activities: [group] });
    const plan = result.progress.find((p) => p.milestoneKey === 'plan');
    expect(plan?.completedAt).toBe(new Date(START + 5 * HOUR).toISOString());
    expect(plan?.evidence).toMatchObject({ metrics: { 'trait:plan': 'enterprise' } });
    expect(result.traits).toEqual({ plan: 'enterprise', seats: 40 });
  });

  it('evaluates open milestones on request (a milestone opened by a person)', () => {
    const result = advanceEnrollment({
      ...start(),
      traits: { plan: 'enterprise' },
      activities: [],
      evaluateAt: START + 7 * HOUR,
    });
    expect(result.progress.find((p) => p.milestoneKey === 'plan')?.completedAt).toBe(
      new Date(START + 7 * HOUR).toISOString(),
    );
  });

  it('asks for a replay when a late event makes a criterion true, and only then', () => {
    const first = start();
    advanceEnrollment({ ...first, activities: [synced(START + 5 * HOUR)] });
    const harmless = advanceEnrollment({ ...first, activities: [synced(START + HOUR)] });
    expect(harmless.needsReplay).toBe(false);
    const decisive = advanceEnrollment({ ...first, activities: [synced(START + 2 * HOUR)] });
    expect(decisive.needsReplay).toBe(true);
    expect(decisive.changes).toEqual([]);
  });

  it('reaches the same state and completions whatever batches the events arrive in', () => {
    const events = fc.array(
      fc.record({
        offset: fc.integer({ min: -48, max: 400 }),
        user: fc.constantFrom('u1', 'u2', 'u3', null),
        ok: fc.boolean(),
        page: fc.boolean(),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 10 }), (specs, size) => {
        const ordered = specs
          .map((s, i) => ({ ...s, i }))
          .sort((a, b) => a.offset - b.offset || a.i - b.i)
          .map((s) =>
            s.page
              ? activity(START + s.offset * HOUR, null, s.user)
              : activity(START + s.offset * HOUR, 'Contact Synced', s.user, {
                  status: s.ok ? 'ok' : 'failed',
                }),
          );
        const wholeInput = start();
        const whole = advanceEnrollment({ ...wholeInput, activities: ordered });
        const inBatches = start();
        let progress = inBatches.progress;
        for (let i = 0; i < ordered.length; i += size) {
          const step = advanceEnrollment({
            ...inBatches,
            progress,
            activities: ordered.slice(i, i + size),
          });
          expect(step.needsReplay).toBe(false);
          progress = step.progress;
        }
        expect(progress).toEqual(whole.progress);
        expect(inBatches.state).toEqual(wholeInput.state);
      }),
    );
  });
});
