import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCriteria } from './compile-criteria.js';
import {
  canonicalFilter,
  eventMatchesFilter,
  type FilterValue,
  type Metric,
  metricKey,
  parseMetricKey,
  uniqueMetrics,
} from './metrics.js';

describe('metricKey', () => {
  it('writes each kind of metric in its canonical form', () => {
    expect(
      metricKey({
        kind: 'event_count',
        event: 'Contact Synced',
        filter: { status: 'success' },
        windowSeconds: 604_800,
      }),
    ).toBe('event_count:Contact Synced:{"status":"success"}:604800');
    expect(
      metricKey({ kind: 'event_count', event: 'Login', filter: {}, windowSeconds: null }),
    ).toBe('event_count:Login:{}:all');
    expect(metricKey({ kind: 'active_users', windowSeconds: 3600 })).toBe('active_users:3600');
    expect(metricKey({ kind: 'trait', name: 'crm_sync' })).toBe('trait:crm_sync');
    expect(metricKey({ kind: 'days_since_enrollment' })).toBe('days_since_enrollment');
  });

  it('sorts filter keys and writes -0 as 0', () => {
    expect(
      metricKey({
        kind: 'event_count',
        event: 'E',
        filter: { b: -0, a: null, '10': true, '9': 'x' },
        windowSeconds: null,
      }),
    ).toBe('event_count:E:{"10":true,"9":"x","a":null,"b":0}:all');
  });

  it('keeps metrics apart whose event names hold ":" or "%"', () => {
    const a: Metric = { kind: 'event_count', event: 'a:{}', filter: {}, windowSeconds: null };
    const b: Metric = { kind: 'event_count', event: 'a', filter: {}, windowSeconds: null };
    expect(metricKey(a)).toBe('event_count:a%3A{}:{}:all');
    expect(metricKey(a)).not.toBe(metricKey(b));
    expect(metricKey({ ...b, event: '100%' })).toBe('event_count:100%25:{}:all');
  });
});

describe('parseMetricKey', () => {
  it('reads back every kind of key', () => {
    expect(parseMetricKey('event_count:Contact Synced:{"status":"success"}:604800')).toEqual({
      kind: 'event_count',
      event: 'Contact Synced',
      filter: { status: 'success' },
      windowSeconds: 604_800,
    });
    expect(parseMetricKey('event_count:a%3Ab%25:{}:all')).toEqual({
      kind: 'event_count',
      event: 'a:b%',
      filter: {},
      windowSeconds: null,
    });
    expect(parseMetricKey('active_users:60')).toEqual({ kind: 'active_users', windowSeconds: 60 });
    expect(parseMetricKey('trait:a:b')).toEqual({ kind: 'trait', name: 'a:b' });
    expect(parseMetricKey('days_since_enrollment')).toEqual({ kind: 'days_since_enrollment' });
  });

  it.each([
    '',
    'nonsense',
    'active_users:0',
    'active_users:1.5',
    'active_users:',
    'event_count:a:{}',
    'event_count:a:{}:0',
    'event_count:a:[]:all',
    'event_count:a:{"k":[1]}:all',
    'event_count:a:{"b":1,"a":2}:all',
    'event_count:a:{ }:all',
    'event_count:a%zz:{}:all',
    'event_count:a:b:{}:all',
  ])('refuses the malformed or non-canonical key %j', (key) => {
    expect(parseMetricKey(key)).toBeNull();
  });
});

describe('uniqueMetrics', () => {
  it('drops metrics with the same key and orders the rest by key', () => {
    expect(
      uniqueMetrics([
        { kind: 'trait', name: 'b' },
        { kind: 'event_count', event: 'x', filter: { k: 1 }, windowSeconds: null },
        { kind: 'trait', name: 'b' },
        { kind: 'event_count', event: 'x', filter: { k: 1.0 }, windowSeconds: null },
        { kind: 'active_users', windowSeconds: 60 },
      ]).map(metricKey),
    ).toEqual(['active_users:60', 'event_count:x:{"k":1}:all', 'trait:b']);
  });
});

describe('eventMatchesFilter', () => {
  it('needs every filter entry among the properties, with an equal JSON value', () => {
    const filter = { status: 'success', attempt: 1, dry_run: false, owner: null };
    expect(
      eventMatchesFilter(filter, {
        status: 'success',
        attempt: 1.0,
        dry_run: false,
        owner: null,
        extra: 'x',
      }),
    ).toBe(true);
    expect(eventMatchesFilter(filter, { status: 'success', attempt: 1, dry_run: false })).toBe(
      false,
    );
    expect(
      eventMatchesFilter(filter, { status: 'success', attempt: '1', dry_run: false, owner: null }),
    ).toBe(false);
    expect(eventMatchesFilter({}, {})).toBe(true);
    expect(eventMatchesFilter({ toString: 'x' }, {})).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const filterValues: fc.Arbitrary<FilterValue> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);

const filterEntries = fc.uniqueArray(
  fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), filterValues),
  { selector: ([name]) => name, maxLength: 6 },
);

const eventNames = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 });
const windows = fc.option(fc.integer({ min: 1, max: 10 * 366 * 86_400 }), { nil: null });

/** The CEL literal of a filter value, written so that it reads back as exactly that value. */
function celLiteral(value: FilterValue): string {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && !Object.is(value, -0)
      ? String(value)
      : value.toExponential();
  }
  return JSON.stringify(value);
}

describe('metric keys, for random literal filters and windows', () => {
  it('do not depend on the order of the filter keys', () => {
    fc.assert(
      fc.property(
        eventNames,
        filterEntries,
        windows,
        fc.array(fc.nat()),
        (event, entries, windowSeconds, order) => {
          const shuffled = [...entries];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (order[i] ?? 0) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as never, shuffled[i] as never];
          }
          const a = metricKey({
            kind: 'event_count',
            event,
            filter: Object.fromEntries(entries),
            windowSeconds,
          });
          const b = metricKey({
            kind: 'event_count',
            event,
            filter: Object.fromEntries(shuffled),
            windowSeconds,
          });
          expect(b).toBe(a);
        },
      ),
    );
  });

  it('read back as the same metric, with its filter in canonical order', () => {
    fc.assert(
      fc.property(eventNames, filterEntries, windows, (event, entries, windowSeconds) => {
        const filter = Object.fromEntries(entries);
        const metric: Metric = { kind: 'event_count', event, filter, windowSeconds };
        expect(parseMetricKey(metricKey(metric))).toEqual({
          ...metric,
          filter: canonicalFilter(filter),
        });
      }),
    );
  });

  it('are what compileCriteria reads from the criterion, in whatever order it lists the filter', () => {
    fc.assert(
      fc.property(
        eventNames,
        filterEntries,
        windows,
        fc.boolean(),
        (event, entries, windowSeconds, reversed) => {
          const listed = reversed ? [...entries].reverse() : entries;
          const filter = `{${listed.map(([k, v]) => `${JSON.stringify(k)}: ${celLiteral(v)}`).join(', ')}}`;
          const window = windowSeconds === null ? '' : `, duration("${windowSeconds}s")`;
          const source = `event_count(${JSON.stringify(event)}, ${filter}${window}) >= 1`;
          const compiled = compileCriteria(source);
          expect(compiled.ok && compiled.value.metricKeys).toEqual([
            metricKey({
              kind: 'event_count',
              event,
              filter: Object.fromEntries(entries),
              windowSeconds,
            }),
          ]);
        },
      ),
    );
  });
});
