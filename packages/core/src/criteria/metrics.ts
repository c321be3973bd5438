import { type ASTNode, EvaluationError, evaluate } from '@marcbachmann/cel-js';
import { type CriteriaError, criteriaError } from './criteria-error.js';

/** A value an event filter can require of an event property (JSON scalars). */
export type FilterValue = string | number | boolean | null;

/**
 * One product metric of one account that a criterion reads. The ingestion pipeline keeps
 * exactly the metrics of the open milestones' criteria up to date, by `metricKey`.
 *
 * - `event_count`: the number of events named `event` the account sent since the enrollment
 *   started (`windowSeconds: null`) or within the last `windowSeconds` before now, counting only
 *   the events whose properties match `filter` (see `eventMatchesFilter`; `{}` matches all).
 * - `active_users`: distinct users of the account with any event in the last `windowSeconds`.
 * - `trait`: the account's trait `name` (its value, or its absence).
 * - `days_since_enrollment`: whole days since the enrollment started.
 */
export type Metric =
  | {
      kind: 'event_count';
      event: string;
      filter: Record<string, FilterValue>;
      windowSeconds: number | null;
    }
  | { kind: 'active_users'; windowSeconds: number }
  | { kind: 'trait'; name: string }
  | { kind: 'days_since_enrollment' };

/**
 * The canonical string form of a metric, the same for equal metrics whatever the order of the
 * filter's keys. Forms:
 *
 *     event_count:<event>:<filter as JSON, keys sorted>:<window seconds, or "all">
 *     active_users:<window seconds>
 *     trait:<name>
 *     days_since_enrollment
 *
 * e.g. `event_count:Contact Synced:{"status":"success"}:604800`, `event_count:Login:{}:all`.
 * In the event name `%` is written `%25` and `:` is written `%3A`, so a key never stands for
 * two different metrics. `event_count("X", {})` and `event_count("X")` are one metric.
 */
export function metricKey(metric: Metric): string {
  switch (metric.kind) {
    case 'event_count':
      return `event_count:${escapeEvent(metric.event)}:${canonicalFilterJson(metric.filter)}:${
        metric.windowSeconds === null ? 'all' : String(metric.windowSeconds)
      }`;
    case 'active_users':
      return `active_users:${metric.windowSeconds}`;
    case 'trait':
      return `trait:${metric.name}`;
    case 'days_since_enrollment':
      return 'days_since_enrollment';
  }
}

/** The metric a key stands for (with its filter's keys sorted), or null for a malformed key. */
export function parseMetricKey(key: string): Metric | null {
  if (key === 'days_since_enrollment') return { kind: 'days_since_enrollment' };
  if (key.startsWith('trait:')) return { kind: 'trait', name: key.slice('trait:'.length) };
  if (key.startsWith('active_users:')) {
    const windowSeconds = parseWindowSeconds(key.slice('active_users:'.length));
    return windowSeconds === null ? null : { kind: 'active_users', windowSeconds };
  }
  if (!key.startsWith('event_count:')) return null;
  const rest = key.slice('event_count:'.length);
  const eventEnd = rest.indexOf(':');
  const windowStart = rest.lastIndexOf(':');
  if (eventEnd < 0 || windowStart <= eventEnd) return null;
  const event = unescapeEvent(rest.slice(0, eventEnd));
  const window = rest.slice(windowStart + 1);
  const windowSeconds = window === 'all' ? null : parseWindowSeconds(window);
  if (event === null || (window !== 'all' && windowSeconds === null)) return null;
  const filterJson = rest.slice(eventEnd + 1, windowStart);
  let filter: unknown;
  try {
    filter = JSON.parse(filterJson);
  } catch {
    return null;
  }
  if (!isFilterRecord(filter)) return null;
  const metric: Metric = {
    kind: 'event_count',
    event,
    filter: canonicalFilter(filter),
    windowSeconds,
  };
  return metricKey(metric) === key ? metric : null;
}

/** Orders metrics by key and drops duplicates (metrics with the same key are the same). */
export function uniqueMetrics(metrics: Iterable<Metric>): Metric[] {
  const byKey = new Map<string, Metric>();
  for (const metric of metrics) {
    const key = metricKey(metric);
    if (!byKey.has(key)) byKey.set(key, metric);
  }
  return [...byKey.keys()].sort(compareKeys).map((key) => byKey.get(key) as Metric);
}

/**
 * Whether an event's properties match a filter: every filter entry names a top-level property
 * that the event has, with an equal JSON value (no coercion: `"5"` does not match `5`; `1` and
 * `1.0` are the same number; `null` matches a property that is present and null).
 */
export function eventMatchesFilter(
  filter: Readonly<Record<string, FilterValue>>,
  properties: Readonly<Record<string, unknown>>,
): boolean {
  return Object.entries(filter).every(
    ([name, value]) => Object.hasOwn(properties, name) && properties[name] === value,
  );
}

/** Key order by UTF-16 code units, the same everywhere (no locale). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A copy of the filter with its keys inserted in sorted order and -0 written as 0. (A
 * JavaScript object still lists integer-like keys such as "10" first; `metricKey` does not
 * depend on the order of an object's keys.)
 */
export function canonicalFilter(
  filter: Readonly<Record<string, FilterValue>>,
): Record<string, FilterValue> {
  return Object.fromEntries(sortedEntries(filter));
}

function sortedEntries(filter: Readonly<Record<string, FilterValue>>): [string, FilterValue][] {
  return Object.keys(filter)
    .sort(compareKeys)
    .map((name) => {
      const value = filter[name] as FilterValue;
      return [name, Object.is(value, -0) ? 0 : value];
    });
}

function canonicalFilterJson(filter: Readonly<Record<string, FilterValue>>): string {
  const entries = sortedEntries(filter).map(
    ([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`,
  );
  return `{${entries.join(',')}}`;
}

function escapeEvent(event: string): string {
  return event.replaceAll('%', '%25').replaceAll(':', '%3A');
}

function unescapeEvent(escaped: string): string | null {
  if (/%(?!25|3A)/.test(escaped)) return null;
  return escaped.replace(/%(25|3A)/g, (code) => (code === '%25' ? '%' : ':'));
}

function parseWindowSeconds(text: string): number | null {
  if (!/^[1-9][0-9]*$/.test(text)) return null;
  const seconds = Number(text);
  return Number.isSafeInteger(seconds) ? seconds : null;
}

function isFilterRecord(value: unknown): value is Record<string, FilterValue> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every(
    (v) =>
      v === null ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading the metrics of a checked expression
// ---------------------------------------------------------------------------------------------

/** A metric a criterion reads, with the offset of its first read in the source. */
export interface MetricRead {
  metric: Metric;
  key: string;
  offset: number;
}

/** Names of the variables and functions of the criteria language (see functions.ts). */
const TRAITS = 'traits';
const DAYS_SINCE_ENROLLMENT = 'days_since_enrollment';
const EVENT_COUNT = 'event_count';
const ACTIVE_USERS = 'active_users';
const DURATION_TYPE = 'google.protobuf.Duration';

/** Macros whose first argument names a variable bound in the other arguments. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

const KNOWN_AT_SAVE = 'so that the metric is known when the program is saved';
const TRAITS_USAGE =
  'traits can only be read one trait at a time, by a literal name: traits.plan, traits["plan"], has(traits.plan) or "plan" in traits';

interface Walk {
  readonly source: string;
  readonly reads: Map<string, MetricRead>;
  readonly errors: CriteriaError[];
}

/**
 * The metrics an expression reads, from its type-checked AST, in key order, or the places where
 * it reads a metric that cannot be known before evaluation (a non-literal event name, filter,
 * window or trait name) and the `duration("…")` literals that do not parse.
 */
export function readMetrics(
  ast: ASTNode,
  source: string,
): { reads: MetricRead[]; errors: CriteriaError[] } {
  const walk: Walk = { source, reads: new Map(), errors: [] };
  visit(walk, ast, new Set());
  const reads = [...walk.reads.values()].sort((a, b) => compareKeys(a.key, b.key));
  const errors = [...walk.errors].sort((a, b) => a.offset - b.offset);
  return { reads, errors };
}

function record(walk: Walk, metric: Metric, node: ASTNode): void {
  const canonical: Metric =
    metric.kind === 'event_count' ? { ...metric, filter: canonicalFilter(metric.filter) } : metric;
  const key = metricKey(canonical);
  const offset = node.start;
  const known = walk.reads.get(key);
  if (known === undefined || offset < known.offset) {
    walk.reads.set(key, { metric: canonical, key, offset });
  }
}

function fail(walk: Walk, node: ASTNode, message: string): void {
  walk.errors.push(criteriaError(walk.source, node.start, message));
}

function isGlobal(node: ASTNode, name: string, scope: ReadonlySet<string>): boolean {
  return node.op === 'id' && node.args === name && !scope.has(name);
}

function visit(walk: Walk, node: ASTNode, scope: ReadonlySet<string>): void {
  switch (node.op) {
    case 'value':
      return;
    case 'id':
      if (scope.has(node.args)) return;
      if (node.args === TRAITS) fail(walk, node, TRAITS_USAGE);
      else if (node.args === DAYS_SINCE_ENROLLMENT)
        record(walk, { kind: 'days_since_enrollment' }, node);
      return;
    case '.':
    case '.?': {
      const [target, field] = node.args;
      if (isGlobal(target, TRAITS, scope)) record(walk, { kind: 'trait', name: field }, node);
      else visit(walk, target, scope);
      return;
    }
    case '[]':
    case '[?]': {
      const [target, index] = node.args;
      if (!isGlobal(target, TRAITS, scope)) {
        visit(walk, target, scope);
        visit(walk, index, scope);
      } else if (index.op === 'value' && typeof index.args === 'string') {
        record(walk, { kind: 'trait', name: index.args }, node);
      } else {
        fail(
          walk,
          index,
          `a trait name must be a string literal, e.g. traits["plan"]; ${TRAITS_USAGE}`,
        );
      }
      return;
    }
    case 'in': {
      const [element, container] = node.args;
      if (
        isGlobal(container, TRAITS, scope) &&
        element.op === 'value' &&
        typeof element.args === 'string'
      ) {
        record(walk, { kind: 'trait', name: element.args }, node);
      } else {
        visit(walk, element, scope);
        visit(walk, container, scope);
      }
      return;
    }
    case 'call': {
      const [name, args] = node.args;
      if (name === EVENT_COUNT) readEventCount(walk, node, args);
      else if (name === ACTIVE_USERS) readActiveUsers(walk, node, args);
      else if (name === 'duration' && args.length === 1 && isStringLiteral(args[0])) {
        durationLiteral(walk, args[0], null);
      } else for (const arg of args) visit(walk, arg, scope);
      return;
    }
    case 'rcall': {
      const [name, receiver, args] = node.args;
      const binder = args[0];
      if (COMPREHENSIONS.has(name) && binder?.op === 'id') {
        visit(walk, receiver, scope);
        const inner = new Set(scope).add(binder.args);
        for (const arg of args.slice(1)) visit(walk, arg, inner);
      } else if (name === 'bind' && isGlobal(receiver, 'cel', scope) && binder?.op === 'id') {
        const [, value, body] = args;
        if (value !== undefined) visit(walk, value, scope);
        if (body !== undefined) visit(walk, body, new Set(scope).add(binder.args));
      } else {
        visit(walk, receiver, scope);
        for (const arg of args) visit(walk, arg, scope);
      }
      return;
    }
    case 'list':
      for (const element of node.args) visit(walk, element, scope);
      return;
    case 'map':
      for (const [key, value] of node.args) {
        visit(walk, key, scope);
        visit(walk, value, scope);
      }
      return;
    case '!_':
    case '-_':
      visit(walk, node.args, scope);
      return;
    default:
      // Binary operators, `&&`, `||` and `?:`: every operand is a node.
      for (const operand of node.args) visit(walk, operand, scope);
  }
}

function isStringLiteral(node: ASTNode | undefined): node is ASTNode & { args: string } {
  return node?.op === 'value' && typeof node.args === 'string';
}

function checkedTypeName(node: ASTNode): string | undefined {
  const type = (node as { checkedType?: { name?: unknown } }).checkedType;
  return typeof type?.name === 'string' ? type.name : undefined;
}

function readEventCount(walk: Walk, call: ASTNode, args: readonly ASTNode[]): void {
  const [nameArg, second, third] = args;
  let event: string | null = null;
  if (!isStringLiteral(nameArg)) {
    if (nameArg !== undefined) {
      fail(
        walk,
        nameArg,
        `the event name of event_count() must be a string literal, e.g. event_count("Contact Synced"), ${KNOWN_AT_SAVE}`,
      );
    }
  } else if (nameArg.args === '') {
    fail(walk, nameArg, 'the event name of event_count() must not be empty');
  } else {
    event = nameArg.args;
  }

  let filterArg: ASTNode | undefined;
  let windowArg: ASTNode | undefined;
  if (third !== undefined) {
    filterArg = second;
    windowArg = third;
  } else if (second !== undefined) {
    const type = checkedTypeName(second);
    const isWindow =
      (second.op === 'call' && second.args[0] === 'duration') || type === DURATION_TYPE;
    const isFilter = second.op === 'map' || type?.startsWith('map<');
    if (isWindow) windowArg = second;
    else if (isFilter) filterArg = second;
    else {
      fail(
        walk,
        second,
        `the second argument of event_count() must be a filter map literal, e.g. {"status": "success"}, or a window, e.g. duration("168h"), ${KNOWN_AT_SAVE}`,
      );
      return;
    }
  }

  const filter = filterArg === undefined ? {} : filterLiteral(walk, filterArg);
  const windowSeconds =
    windowArg === undefined ? null : windowLiteral(walk, windowArg, 'event_count()');
  if (event === null || filter === null || windowSeconds === undefined) return;
  record(walk, { kind: 'event_count', event, filter, windowSeconds }, call);
}

function readActiveUsers(walk: Walk, call: ASTNode, args: readonly ASTNode[]): void {
  const [windowArg] = args;
  if (windowArg === undefined) return;
  const windowSeconds = windowLiteral(walk, windowArg, 'active_users()');
  if (windowSeconds === undefined) return;
  record(walk, { kind: 'active_users', windowSeconds }, call);
}

function filterLiteral(walk: Walk, node: ASTNode): Record<string, FilterValue> | null {
  if (node.op !== 'map') {
    fail(
      walk,
      node,
      `the filter of event_count() must be a map literal, e.g. {"status": "success"}, ${KNOWN_AT_SAVE}`,
    );
    return null;
  }
  const entries: [string, FilterValue][] = [];
  const seen = new Set<string>();
  let valid = true;
  for (const [keyNode, valueNode] of node.args) {
    if (!isStringLiteral(keyNode)) {
      fail(walk, keyNode, 'a filter key must be a string literal naming an event property');
      valid = false;
      continue;
    }
    const name = keyNode.args;
    if (name === '') {
      fail(walk, keyNode, 'a filter key must not be empty');
      valid = false;
      continue;
    }
    if (seen.has(name)) {
      fail(walk, keyNode, `duplicate filter key ${JSON.stringify(name)}`);
      valid = false;
      continue;
    }
    seen.add(name);
    const value = filterValue(valueNode);
    if (typeof value === 'object' && value !== null) {
      fail(walk, valueNode, value.error);
      valid = false;
      continue;
    }
    entries.push([name, value]);
  }
  return valid ? Object.fromEntries(entries) : null;
}

const FILTER_VALUES =
  'a filter value must be a literal string, number, true, false or null, e.g. {"status": "success"}';

function filterValue(node: ASTNode): FilterValue | { error: string } {
  let negate = false;
  let literal = node;
  if (node.op === '-_' && node.args.op === 'value') {
    negate = true;
    literal = node.args;
  }
  if (literal.op !== 'value') return { error: FILTER_VALUES };
  const value = literal.args;
  if (typeof value === 'bigint') {
    const number = Number(negate ? -value : value);
    if (!Number.isSafeInteger(number)) {
      return {
        error: `a filter number must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
      };
    }
    return number;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return negate ? -value : value;
  if (negate) return { error: FILTER_VALUES };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  return { error: FILTER_VALUES };
}

/**
 * The whole positive number of seconds of a `duration("…")` literal argument, or undefined
 * (after recording the fault) when the argument is not such a literal.
 */
function windowLiteral(walk: Walk, node: ASTNode, fn: string): number | undefined {
  const text = node.op === 'call' && node.args[0] === 'duration' ? node.args[1][0] : undefined;
  if (node.op !== 'call' || node.args[1].length !== 1 || !isStringLiteral(text)) {
    fail(
      walk,
      node,
      `the window of ${fn} must be a duration literal, e.g. duration("168h"), ${KNOWN_AT_SAVE}`,
    );
    return undefined;
  }
  const seconds = durationLiteral(walk, text, fn);
  return seconds ?? undefined;
}

/**
 * Checks the string of a `duration("…")` literal as CEL parses it. For a window (`fn` given)
 * the duration must also be a positive whole number of seconds, which is returned.
 */
function durationLiteral(
  walk: Walk,
  text: ASTNode & { args: string },
  fn: string | null,
): number | null {
  const quoted = JSON.stringify(text.args);
  let parsed: { seconds: bigint; nanos: number };
  try {
    parsed = evaluate('duration(text)', { text: text.args });
  } catch (error) {
    if (!(error instanceof EvaluationError)) throw error;
    const days = /^\s*(\d+)\s*d\s*$/.exec(text.args)?.[1];
    const hint =
      days !== undefined
        ? `CEL durations have no day unit: write ${days} days as "${Number(days) * 24}h"`
        : 'write a number with a unit h, m, s, ms, us or ns, e.g. "168h", "90m" or "1h30m"';
    fail(walk, text, `invalid duration ${quoted}: ${hint}`);
    return null;
  }
  if (fn === null) return null;
  if (parsed.seconds < 0n || (parsed.seconds === 0n && parsed.nanos <= 0)) {
    fail(walk, text, `the window of ${fn} must be longer than zero, got ${quoted}`);
    return null;
  }
  if (parsed.nanos !== 0) {
    fail(walk, text, `the window of ${fn} must be a whole number of seconds, got ${quoted}`);
    return null;
  }
  const seconds = Number(parsed.seconds);
  if (!Number.isSafeInteger(seconds)) {
    fail(walk, text, `the window of ${fn} is too long, got ${quoted}`);
    return null;
  }
  return seconds;
}
