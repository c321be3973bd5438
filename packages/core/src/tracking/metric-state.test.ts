import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Metric, metricKey } from '../criteria/metrics.js';
import {
  applyActivity,
  emptyMetricState,
  type MetricState,
  metricStateOf,
  metricValuesAt,
  planMetrics,
  storedMetricState,
} from './metric-state.js';

const HOUR = 3_600_000;
const START = Date.parse('2026-03-02T00:00:00.000Z');
const weekly: Metric = { kind: 'active_users', windowSeconds: 7 * 24 * 3600 };
const plan = planMetrics([weekly]);
const account = { traits: {}, startedAt: START };

/** The state after `users` were each active once, in turn, an hour apart. */
function activeOnce(users: readonly string[]): MetricState {
  const state = emptyMetricState();
  users.forEach((user, i) => {
    applyActivity(state, plan, { event: null, user, at: START + i * HOUR, properties: {} }, START);
  });
  return state;
}

describe('the metric state', () => {
  it('counts every user name as a user, whatever it is called', () => {
    // Names an object inherits from its prototype, or treats apart, are users like any other.
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', '0', 'ada'];
    const state = activeOnce(names);
    const values = metricValuesAt(state, plan, START + names.length * HOUR, account);
    expect(values[metricKey(weekly)]).toBe(names.length);
  });

  it('reads back as stored, through JSON, what it held', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 30 }), (users) => {
        const state = activeOnce(users);
        const stored = JSON.parse(JSON.stringify(storedMetricState(state)));
        const read = metricStateOf(stored);
        expect(read).toEqual(state);
        expect(metricValuesAt(read, plan, START + users.length * HOUR, account)).toEqual(
          metricValuesAt(state, plan, START + users.length * HOUR, account),
        );
      }),
    );
  });
});
