import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CompiledCriteria, compileCriteria } from './compile-criteria.js';
import { evaluateCriteria, type MetricValues } from './evaluate-criteria.js';
import { metricKey } from './metrics.js';

function compiled(source: string): CompiledCriteria {
  const result = compileCriteria(source);
  if (!result.ok) throw new Error(`expected ${source} to compile: ${JSON.stringify(result.error)}`);
  return result.value;
}

function satisfied(source: string | CompiledCriteria, values: MetricValues): boolean {
  const result = evaluateCriteria(typeof source === 'string' ? compiled(source) : source, values);
  if (!result.ok) throw new Error(`expected a result: ${JSON.stringify(result.error)}`);
  return result.value.satisfied;
}

const SYNCED = 'event_count:Contact Synced:{}:all';

describe('evaluateCriteria: the examples of DESIGN.md', () => {
  const crm = compiled(
    'event_count("Contact Synced") >= 100 && traits.crm_sync == "bidirectional"',
  );

  it('is satisfied with enough syncs and the right trait, and records the values used', () => {
    expect(
      evaluateCriteria(crm, {
        [SYNCED]: 120,
        'trait:crm_sync': 'bidirectional',
        'trait:unrelated': 'ignored',
        'event_count:Other:{}:all': 3,
      }),
    ).toEqual({
      ok: true,
      value: {
        satisfied: true,
        values: { [SYNCED]: 120, 'trait:crm_sync': 'bidirectional' },
      },
    });
  });

  it('is not satisfied with too few syncs or when the trait does not match', () => {
    expect(satisfied(crm, { [SYNCED]: 99, 'trait:crm_sync': 'bidirectional' })).toBe(false);
    expect(satisfied(crm, { [SYNCED]: 100, 'trait:crm_sync': 'bidirectional' })).toBe(true);
    expect(satisfied(crm, { [SYNCED]: 500, 'trait:crm_sync': 'one-way' })).toBe(false);
    expect(satisfied(crm, { [SYNCED]: 500, 'trait:crm_sync': null })).toBe(false);
  });

  it('gives an error, not a result, when a trait it needs is not set', () => {
    expect(evaluateCriteria(crm, { [SYNCED]: 120 })).toEqual({
      ok: false,
      error: {
        message:
          'the account has no trait "crm_sync"; has(traits.crm_sync) tells whether it is set',
        line: 1,
        column: 48,
        offset: 47,
      },
    });
    // Unless the other side of && already decides: false && error is false.
    expect(satisfied(crm, {})).toBe(false);
  });

  it('active_users(duration("168h")) >= 5', () => {
    const weekly = compiled('active_users(duration("168h")) >= 5');
    expect(satisfied(weekly, { 'active_users:604800': 5 })).toBe(true);
    expect(satisfied(weekly, { 'active_users:604800': 4 })).toBe(false);
    expect(satisfied(weekly, { 'active_users:86400': 50 })).toBe(false);
    expect(evaluateCriteria(weekly, {})).toEqual({
      ok: true,
      value: { satisfied: false, values: { 'active_users:604800': 0 } },
    });
  });

  it('event_count("Workflow Completed", {"status": "success"}) >= 1', () => {
    const success = compiled('event_count("Workflow Completed", {"status": "success"}) >= 1');
    const key = 'event_count:Workflow Completed:{"status":"success"}:all';
    expect(satisfied(success, { [key]: 1 })).toBe(true);
    expect(satisfied(success, { [key]: 0 })).toBe(false);
    // Workflows completed without the filter are another metric.
    expect(satisfied(success, { 'event_count:Workflow Completed:{}:all': 10 })).toBe(false);
  });
});

describe('evaluateCriteria: functions and variables', () => {
  it('answers each form of event_count from the key of its own arguments', () => {
    const source =
      'event_count("A") == 1 && event_count("A", {"k": "v", "n": 2}) == 2 && ' +
      'event_count("A", duration("1h")) == 3 && event_count("A", {"n": 2.0, "k": "v"}, duration("60m")) == 4';
    expect(
      satisfied(source, {
        'event_count:A:{}:all': 1,
        'event_count:A:{"k":"v","n":2}:all': 2,
        'event_count:A:{}:3600': 3,
        'event_count:A:{"k":"v","n":2}:3600': 4,
      }),
    ).toBe(true);
  });

  it('counts a missing count as 0 and records it so', () => {
    const result = evaluateCriteria(compiled('event_count("a") == 0 && event_count("b") < 1'), {
      'event_count:b:{}:all': null,
    });
    expect(result).toEqual({
      ok: true,
      value: { satisfied: true, values: { 'event_count:a:{}:all': 0, 'event_count:b:{}:all': 0 } },
    });
  });

  it('tests for a trait with has() or in, without an error', () => {
    const pro = compiled('has(traits.plan) && traits.plan == "pro"');
    expect(evaluateCriteria(pro, {})).toEqual({
      ok: true,
      value: { satisfied: false, values: {} },
    });
    expect(satisfied(pro, { 'trait:plan': 'pro' })).toBe(true);
    expect(satisfied('!("plan" in traits)', {})).toBe(true);
    expect(satisfied('!("plan" in traits)', { 'trait:plan': 'team' })).toBe(false);
  });

  it('lets || absorb the error of a missing trait, as CEL does', () => {
    expect(
      satisfied('traits.plan == "pro" || event_count("a") > 0', { 'event_count:a:{}:all': 1 }),
    ).toBe(true);
    const result = evaluateCriteria(
      compiled('event_count("a") > 0 ||\n  traits["plan"] == "pro"'),
      {},
    );
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({
        line: 2,
        message: expect.stringMatching(/no trait "plan"/),
      }),
    });
  });

  it('reads JSON traits as CEL values: whole numbers as ints, objects as maps, arrays as lists', () => {
    const values: MetricValues = {
      'trait:seats': 25,
      'trait:ratio': 0.5,
      'trait:crm': { vendor: 'salesforce', objects: ['Contact', 'Account'] },
      'trait:beta': true,
    };
    expect(satisfied('traits.seats >= 20 && traits.seats + 5 == 30', values)).toBe(true);
    expect(satisfied('traits.seats == 25.0 && traits.ratio < 1', values)).toBe(true);
    expect(
      satisfied('traits.crm.vendor == "salesforce" && "Account" in traits.crm.objects', values),
    ).toBe(true);
    expect(satisfied('traits.beta == true && size(traits.crm.objects) == 2', values)).toBe(true);
  });

  it('reads days_since_enrollment, which must be given', () => {
    const early = compiled('days_since_enrollment <= 14 && event_count("Login") >= 1');
    expect(satisfied(early, { days_since_enrollment: 3, 'event_count:Login:{}:all': 1 })).toBe(
      true,
    );
    expect(satisfied(early, { days_since_enrollment: 15, 'event_count:Login:{}:all': 1 })).toBe(
      false,
    );
    expect(evaluateCriteria(early, { 'event_count:Login:{}:all': 1 })).toEqual({
      ok: false,
      error: {
        message: 'no value was given for days_since_enrollment',
        line: 1,
        column: 1,
        offset: 0,
      },
    });
  });

  it('refuses a count that is not a whole number ≥ 0, at the place the metric is read', () => {
    const criteria = compiled('days_since_enrollment > 1 &&\n  event_count("a") > 1');
    for (const bad of [-1, 1.5, Number.NaN, '3', true]) {
      expect(
        evaluateCriteria(criteria, { days_since_enrollment: 2, 'event_count:a:{}:all': bad }),
      ).toEqual({
        ok: false,
        error: {
          message: expect.stringMatching(
            /^the value of metric event_count:a:{}:all must be a whole number ≥ 0, got /,
          ),
          line: 2,
          column: 3,
          offset: 31,
        },
      });
    }
  });

  it('reports an evaluation fault with its place', () => {
    const result = evaluateCriteria(
      compiled('event_count("a") > 0 &&\n  event_count("a") * 9223372036854775807 > 1'),
      { 'event_count:a:{}:all': 2 },
    );
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({ line: 2, message: expect.stringMatching(/overflow/i) }),
    });
  });

  it('evaluates a stored copy of a compiled criterion the same way', () => {
    const criteria = compiled('event_count("a", {"k": 1}, duration("2h")) > 1');
    const copy = JSON.parse(JSON.stringify(criteria)) as CompiledCriteria;
    const values = { 'event_count:a:{"k":1}:7200': 2 };
    expect(evaluateCriteria(copy, values)).toEqual(evaluateCriteria(criteria, values));
    expect(satisfied(copy, values)).toBe(true);
    expect(evaluateCriteria({ ...criteria, source: 'event_count(' }, values)).toMatchObject({
      ok: false,
      error: { message: expect.any(String), line: 1 },
    });
  });

  it('does not change the values it is given', () => {
    const values = Object.freeze({ [SYNCED]: 120, 'trait:crm_sync': Object.freeze(['x']) });
    const criteria = compiled('event_count("Contact Synced") > 1 && "x" in traits.crm_sync');
    expect(satisfied(criteria, values)).toBe(true);
    expect(satisfied(criteria, values)).toBe(true);
  });
});

describe('evaluateCriteria: properties', () => {
  const metrics = fc.record({
    event: fc.string({ minLength: 1, maxLength: 12 }),
    filter: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 6 }),
      fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 3 },
    ),
    windowSeconds: fc.option(fc.integer({ min: 1, max: 90 * 86_400 }), { nil: null }),
  });

  function source(m: { event: string; filter: object; windowSeconds: number | null }): string {
    const filter = `{${Object.entries(m.filter)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(', ')}}`;
    const window = m.windowSeconds === null ? '' : `, duration("${m.windowSeconds}s")`;
    return `event_count(${JSON.stringify(m.event)}, ${filter}${window})`;
  }

  it('event_count(…) >= N is satisfied exactly from N on, so more events never undo it', () => {
    fc.assert(
      fc.property(
        metrics,
        fc.nat({ max: 1000 }),
        fc.nat({ max: 1000 }),
        fc.nat({ max: 1000 }),
        (metric, threshold, a, b) => {
          const criteria = compiled(`${source(metric)} >= ${threshold}`);
          const key = metricKey({ kind: 'event_count', ...metric });
          const low = Math.min(a, b);
          const high = Math.max(a, b);
          const atLow = satisfied(criteria, { [key]: low });
          const atHigh = satisfied(criteria, { [key]: high });
          expect(atLow).toBe(low >= threshold);
          expect(!atLow || atHigh).toBe(true);
        },
      ),
    );
  });

  it('a conjunction of such criteria stays satisfied when any count grows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(metrics, fc.nat({ max: 50 }), fc.nat({ max: 60 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        fc.nat({ max: 20 }),
        (parts, which, increase) => {
          const criteria = compiled(
            parts.map(([metric, threshold]) => `${source(metric)} >= ${threshold}`).join(' && '),
          );
          const values: Record<string, number> = {};
          for (const [metric, , count] of parts) {
            values[metricKey({ kind: 'event_count', ...metric })] = count;
          }
          const keys = Object.keys(values);
          const grown = { ...values };
          const bumped = keys[which % keys.length] as string;
          grown[bumped] = (grown[bumped] ?? 0) + increase;
          if (satisfied(criteria, values)) expect(satisfied(criteria, grown)).toBe(true);
        },
      ),
    );
  });
});
