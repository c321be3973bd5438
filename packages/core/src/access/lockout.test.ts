import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCKOUT_POLICY,
  type LoginFailures,
  lockedUntil,
  recordFailure,
} from './lockout.js';

const at = (minute: number) =>
  new Date(Date.UTC(2026, 2, 2, 12, 0) + minute * 60_000).toISOString();

describe('sign-in lockout', () => {
  it('locks after five failures within fifteen minutes, for fifteen minutes', () => {
    let state: LoginFailures | null = null;
    for (let i = 0; i < 4; i++) {
      state = recordFailure(state, at(i));
      expect(lockedUntil(state, at(i))).toBeNull();
    }
    state = recordFailure(state, at(4));
    expect(lockedUntil(state, at(4))).toBe(at(19));
    expect(lockedUntil(state, at(18))).toBe(at(19));
    expect(lockedUntil(state, at(19))).toBeNull();
  });

  it('forgets failures spread wider than the window', () => {
    let state: LoginFailures | null = null;
    for (let i = 0; i < 10; i++) state = recordFailure(state, at(i * 4));
    // every fourth minute: the window of 15 minutes never holds five failures
    expect(state?.lockedUntil).toBeNull();
  });

  it('starts counting afresh after a lock has passed', () => {
    let state: LoginFailures | null = null;
    for (let i = 0; i < 5; i++) state = recordFailure(state, at(i));
    state = recordFailure(state, at(30));
    expect(state).toEqual({ failures: 1, firstFailureAt: at(30), lockedUntil: null });
  });

  it('never locks for longer than the policy says (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 40 }), (gaps) => {
        let state: LoginFailures | null = null;
        let minute = 0;
        for (const gap of gaps) {
          minute += gap;
          state = recordFailure(state, at(minute));
          const until = lockedUntil(state, at(minute));
          if (until)
            expect(Date.parse(until) - Date.parse(at(minute))).toBeLessThanOrEqual(
              DEFAULT_LOCKOUT_POLICY.lockMinutes * 60_000,
            );
        }
      }),
    );
  });
});
