import { describe, expect, it } from 'vitest';
import { type CompiledCriteria, compileCriteria } from './compile-criteria.js';
import type { CriteriaError } from './criteria-error.js';

function compiled(source: string): CompiledCriteria {
  const result = compileCriteria(source);
  if (!result.ok) throw new Error(`expected ${source} to compile: ${JSON.stringify(result.error)}`);
  return result.value;
}

function errors(source: string): CriteriaError[] {
  const result = compileCriteria(source);
  if (result.ok) throw new Error(`expected ${source} to be refused`);
  return result.error;
}

describe('compileCriteria: the examples of DESIGN.md', () => {
  it('event_count("Contact Synced") >= 100 && traits.crm_sync == "bidirectional"', () => {
    const criteria = compiled(
      'event_count("Contact Synced") >= 100 && traits.crm_sync == "bidirectional"',
    );
    expect(criteria.metrics).toEqual([
      { kind: 'event_count', event: 'Contact Synced', filter: {}, windowSeconds: null },
      { kind: 'trait', name: 'crm_sync' },
    ]);
    expect(criteria.metricKeys).toEqual(['event_count:Contact Synced:{}:all', 'trait:crm_sync']);
  });

  it('active_users(duration("168h")) >= 5', () => {
    const criteria = compiled('active_users(duration("168h")) >= 5');
    expect(criteria.metrics).toEqual([{ kind: 'active_users', windowSeconds: 604_800 }]);
    expect(criteria.metricKeys).toEqual(['active_users:604800']);
  });

  it('event_count("Workflow Completed", {"status": "success"}) >= 1', () => {
    const criteria = compiled('event_count("Workflow Completed", {"status": "success"}) >= 1');
    expect(criteria.metrics).toEqual([
      {
        kind: 'event_count',
        event: 'Workflow Completed',
        filter: { status: 'success' },
        windowSeconds: null,
      },
    ]);
    expect(criteria.metricKeys).toEqual([
      'event_count:Workflow Completed:{"status":"success"}:all',
    ]);
    expect(criteria.source).toBe('event_count("Workflow Completed", {"status": "success"}) >= 1');
  });
});

describe('compileCriteria: the metrics a criterion reads', () => {
  it('reads every form of event_count with its filter and window', () => {
    const criteria = compiled(`
      event_count("Contact Synced", {"status": "success", "direction": "out"}, duration("168h")) >= 10
      && event_count("Contact Synced", duration("24h")) >= 1
      && event_count("Report Viewed", {"attempt": -1, "ratio": 0.5, "ok": true, "owner": null}) > 0`);
    expect(criteria.metricKeys).toEqual([
      'event_count:Contact Synced:{"direction":"out","status":"success"}:604800',
      'event_count:Contact Synced:{}:86400',
      'event_count:Report Viewed:{"attempt":-1,"ok":true,"owner":null,"ratio":0.5}:all',
    ]);
    expect(criteria.metrics[0]).toEqual({
      kind: 'event_count',
      event: 'Contact Synced',
      filter: { direction: 'out', status: 'success' },
      windowSeconds: 604_800,
    });
    // The filter's keys are in canonical (sorted) order in the metric too.
    expect(Object.keys((criteria.metrics[2] as { filter: object }).filter)).toEqual([
      'attempt',
      'ok',
      'owner',
      'ratio',
    ]);
  });

  it('lists each metric once, ordered by key, whatever the form it is written in', () => {
    const criteria = compiled(
      'event_count("b") > 1 || event_count("a", {}) > 2 || event_count("a") > 3 || ' +
        'event_count("c", {"y": 1, "x": 2}) > 0 || event_count("c", {"x": 2, "y": 1.0}) > 0 || ' +
        'active_users(duration("1h")) > 1 || active_users(duration("60m")) > 2 || ' +
        'traits.plan == "pro" || traits["plan"] == "team"',
    );
    expect(criteria.metricKeys).toEqual([
      'active_users:3600',
      'event_count:a:{}:all',
      'event_count:b:{}:all',
      'event_count:c:{"x":2,"y":1}:all',
      'trait:plan',
    ]);
  });

  it('reads traits by name in every literal form, and days_since_enrollment', () => {
    const criteria = compiled(
      'has(traits.a) && traits["b"] == 1 && "c" in traits && traits.d.nested == "x" && ' +
        'days_since_enrollment <= 30',
    );
    expect(criteria.metrics).toEqual([
      { kind: 'days_since_enrollment' },
      { kind: 'trait', name: 'a' },
      { kind: 'trait', name: 'b' },
      { kind: 'trait', name: 'c' },
      { kind: 'trait', name: 'd' },
    ]);
  });

  it('does not take a macro variable named like a global for the global', () => {
    const criteria = compiled(
      '[1, 2].exists(traits, traits > 1) && ' +
        'cel.bind(days_since_enrollment, 3, days_since_enrollment > 1) && traits.plan == "pro"',
    );
    expect(criteria.metricKeys).toEqual(['trait:plan']);
  });

  it('reads metrics inside macros, ternaries and lists', () => {
    const criteria = compiled(
      '[event_count("a"), event_count("b")].all(n, n > 0) && ' +
        '(has(traits.plan) ? active_users(duration("24h")) > 1 : event_count("c") > 0)',
    );
    expect(criteria.metricKeys).toEqual([
      'active_users:86400',
      'event_count:a:{}:all',
      'event_count:b:{}:all',
      'event_count:c:{}:all',
      'trait:plan',
    ]);
  });

  it('escapes ":" and "%" of event names in keys', () => {
    expect(compiled('event_count("a:b%c") > 0').metricKeys).toEqual([
      'event_count:a%3Ab%25c:{}:all',
    ]);
  });

  it('accepts a criterion over several lines and one that reads no metric', () => {
    expect(compiled('event_count("a") > 1\n  && event_count("b") > 1').metricKeys).toHaveLength(2);
    expect(compiled('true').metrics).toEqual([]);
  });

  it('returns plain data that survives JSON', () => {
    const criteria = compiled('event_count("a", {"k": 1}, duration("2h")) > 1');
    expect(JSON.parse(JSON.stringify(criteria))).toEqual(criteria);
  });
});

describe('compileCriteria: refused criteria, with the place of the fault', () => {
  const catalogue: {
    source: string;
    message: string | RegExp;
    line: number;
    column: number;
  }[] = [
    // syntax
    { source: '', message: 'the criterion is empty', line: 1, column: 1 },
    {
      source: 'event_count("a") >=',
      message: 'unexpected end of the criterion',
      line: 1,
      column: 20,
    },
    {
      source: 'event_count("a") >= 1 &&\n  traits.plan = "pro"',
      message: 'Unexpected character: =',
      line: 2,
      column: 15,
    },
    { source: 'traits.plan == "pro', message: 'Unterminated string', line: 1, column: 16 },
    { source: 'event_count("a" > 1', message: /Expected RPAREN/, line: 1, column: 20 },
    // unknown names
    { source: 'foo("a") > 1', message: /^unknown function 'foo'/, line: 1, column: 1 },
    {
      source: 'event_count("a") > 1 &&\n\tlogins("a") > 1',
      message: /^unknown function 'logins'/,
      line: 2,
      column: 2,
    },
    {
      source: 'plan == "pro"',
      message: "unknown variable 'plan'; a criterion can read traits and days_since_enrollment",
      line: 1,
      column: 1,
    },
    // types
    {
      source: 'event_count(5) > "x"',
      message: /^found no matching overload for 'event_count\(int\)'; event_count takes/,
      line: 1,
      column: 1,
    },
    {
      source: 'event_count("a") > "x"',
      message: 'no such overload: int > string',
      line: 1,
      column: 1,
    },
    {
      source: 'event_count("a", {1: "x"}) > 1',
      message: /no matching overload for 'event_count\(string, map<int, string>\)'/,
      line: 1,
      column: 1,
    },
    {
      source: 'active_users() > 1',
      message: /active_users takes active_users\(google.protobuf.Duration\)$/,
      line: 1,
      column: 1,
    },
    {
      source: 'days_since_enrollment > 2 &&\n   active_users("7d") > 1',
      message: /no matching overload for 'active_users\(string\)'/,
      line: 2,
      column: 4,
    },
    {
      source: 'event_count("a")',
      message: /must be true or false \(type bool\), but this one is of type int$/,
      line: 1,
      column: 1,
    },
    {
      source: '  traits.enabled',
      message: /of type dyn; compare the value, e.g. traits.enabled == true$/,
      line: 1,
      column: 3,
    },
    // durations
    {
      source: 'active_users(duration("7d")) >= 5',
      message: 'invalid duration "7d": CEL durations have no day unit: write 7 days as "168h"',
      line: 1,
      column: 23,
    },
    {
      source: 'event_count("a") > 1 ||\n  duration("soon") > duration("1h")',
      message: /^invalid duration "soon": write a number with a unit/,
      line: 2,
      column: 12,
    },
    {
      source: 'active_users(duration("1.5s")) >= 5',
      message: 'the window of active_users() must be a whole number of seconds, got "1.5s"',
      line: 1,
      column: 23,
    },
    {
      source: 'event_count("a", duration("-1h")) >= 5',
      message: 'the window of event_count() must be longer than zero, got "-1h"',
      line: 1,
      column: 27,
    },
    // metrics that are not literals
    {
      source: 'event_count(traits.event) > 1',
      message: /^the event name of event_count\(\) must be a string literal/,
      line: 1,
      column: 13,
    },
    {
      source: 'event_count("") > 1',
      message: 'the event name of event_count() must not be empty',
      line: 1,
      column: 13,
    },
    {
      source: 'event_count("a", traits.filter) > 1',
      message: /^the second argument of event_count\(\) must be a filter map literal/,
      line: 1,
      column: 18,
    },
    {
      source: 'event_count("a", {"status": traits.s}) > 1',
      message: /^a filter value must be a literal string, number, true, false or null/,
      line: 1,
      column: 29,
    },
    {
      source: 'event_count("a", {"k": [1]}) > 1',
      message: /^a filter value must be a literal/,
      line: 1,
      column: 24,
    },
    {
      source: 'event_count("a", dyn({"k": 1}), duration("1h")) > 1',
      message: /^the filter of event_count\(\) must be a map literal/,
      line: 1,
      column: 18,
    },
    {
      source: 'event_count("a", {"k": 1}, duration(traits.w)) > 1',
      message: /^the window of event_count\(\) must be a duration literal/,
      line: 1,
      column: 28,
    },
    {
      source: 'active_users(duration("168h") + duration("1h")) > 1',
      message: /^the window of active_users\(\) must be a duration literal/,
      line: 1,
      column: 14,
    },
    {
      source: 'event_count("Contact Synced") >= 100 &&\n    event_count("x", {"a": 1, "a": 2}) > 0',
      message: 'duplicate filter key "a"',
      line: 2,
      column: 31,
    },
    {
      source: 'size(traits) > 1',
      message: /^traits can only be read one trait at a time, by a literal name/,
      line: 1,
      column: 6,
    },
    {
      source: 'traits[traits.key] == 1',
      message: /^a trait name must be a string literal/,
      line: 1,
      column: 8,
    },
  ];

  it.each(catalogue)('$source', ({ source, message, line, column }) => {
    const [first, ...rest] = errors(source);
    expect(rest).toEqual([]);
    expect(first?.message).toEqual(
      typeof message === 'string' ? message : expect.stringMatching(message),
    );
    expect({ line: first?.line, column: first?.column }).toEqual({ line, column });
    const lines = source.split('\n');
    const offsetOfLine = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    expect(first?.offset).toBe(offsetOfLine + column - 1);
  });

  it('reports every non-literal argument and bad duration at once, in source order', () => {
    const found = errors(
      'event_count(traits.a) > 1 &&\n  active_users(duration("7d")) > 1 && event_count("b", {"k": traits.k}) > 0',
    );
    expect(found.map(({ line, column }) => [line, column])).toEqual([
      [1, 13],
      [2, 25],
      [2, 62],
    ]);
  });
});
