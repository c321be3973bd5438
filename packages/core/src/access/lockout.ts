/**
 * Sign-in lockout: after `maxFailures` wrong passwords within `windowMinutes`, an
 * email is locked for `lockMinutes`. It counts per email whether or not a person
 * has that email, so the lock itself never tells who exists.
 */
export interface LockoutPolicy {
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  maxFailures: 5,
  windowMinutes: 15,
  lockMinutes: 15,
};

export interface LoginFailures {
  failures: number;
  firstFailureAt: string;
  lockedUntil: string | null;
}

const minutes = (n: number) => n * 60_000;

/** The time until which sign-in is refused, or null when it is allowed now. */
export function lockedUntil(state: LoginFailures | null, now: string): string | null {
  if (!state?.lockedUntil) return null;
  return Date.parse(state.lockedUntil) > Date.parse(now) ? state.lockedUntil : null;
}

/** The state after one more wrong password at `at`. */
export function recordFailure(
  state: LoginFailures | null,
  at: string,
  policy: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
): LoginFailures {
  const windowOpen =
    state !== null &&
    lockedUntil(state, at) === null &&
    state.lockedUntil === null &&
    Date.parse(at) - Date.parse(state.firstFailureAt) < minutes(policy.windowMinutes);
  const failures = windowOpen ? state.failures + 1 : 1;
  const firstFailureAt = windowOpen ? state.firstFailureAt : at;
  return {
    failures,
    firstFailureAt,
    lockedUntil:
      failures >= policy.maxFailures
        ? new Date(Date.parse(at) + minutes(policy.lockMinutes)).toISOString()
        : null,
  };
}
