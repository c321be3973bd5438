import { Environment } from '@marcbachmann/cel-js';
import { type FilterValue, type Metric, metricKey } from './metrics.js';

/**
 * The criteria language: CEL with these variables and functions over ONE account's product
 * data. Every function is answered from precomputed metrics (see metrics.ts), never from
 * events, so evaluating a criterion costs the same whatever the account's event volume.
 */
export interface CriteriaDefinition {
  /** The CEL declaration, e.g. `event_count(string, map<string, dyn>): int`. */
  signature: string;
  /** Names of the parameters, in order (functions only). */
  params?: readonly string[];
  description: string;
}

export const CRITERIA_FUNCTIONS: readonly CriteriaDefinition[] = [
  {
    signature: 'event_count(string): int',
    params: ['name'],
    description: 'How many events with this name the account sent since the enrollment started.',
  },
  {
    signature: 'event_count(string, map<string, dyn>): int',
    params: ['name', 'filter'],
    description:
      'How many events with this name, whose properties equal every entry of the filter, the account sent since the enrollment started, e.g. event_count("Workflow Completed", {"status": "success"}).',
  },
  {
    signature: 'event_count(string, google.protobuf.Duration): int',
    params: ['name', 'window'],
    description:
      'How many events with this name the account sent in the last window, e.g. event_count("Report Viewed", duration("168h")).',
  },
  {
    signature: 'event_count(string, map<string, dyn>, google.protobuf.Duration): int',
    params: ['name', 'filter', 'window'],
    description:
      'How many events with this name, whose properties equal every entry of the filter, the account sent in the last window.',
  },
  {
    signature: 'active_users(google.protobuf.Duration): int',
    params: ['window'],
    description:
      'How many distinct users of the account sent any event in the last window, e.g. active_users(duration("168h")).',
  },
];

export const CRITERIA_VARIABLES: readonly (CriteriaDefinition & { name: string })[] = [
  {
    name: 'traits',
    signature: 'traits: map<string, dyn>',
    description:
      'The account\'s traits, read by name: traits.crm_sync == "bidirectional"; has(traits.plan) tells whether a trait is set.',
  },
  {
    name: 'days_since_enrollment',
    signature: 'days_since_enrollment: int',
    description: 'Whole days since the enrollment started.',
  },
];

/** Answers the functions during one evaluation: metric key → count. */
export interface MetricLookup {
  count(key: string): bigint;
}

let active: MetricLookup | undefined;

/**
 * Runs `evaluate` with `lookup` answering the criteria functions. CEL calls function handlers
 * without the evaluation's variables, so the lookup is held here for the duration of the
 * (synchronous) evaluation; it is restored afterwards, even when the evaluation throws.
 */
export function withMetricLookup<T>(lookup: MetricLookup, evaluate: () => T): T {
  const previous = active;
  active = lookup;
  try {
    return evaluate();
  } finally {
    active = previous;
  }
}

function lookupCount(metric: Metric): bigint {
  if (active === undefined) {
    throw new Error('criteria functions are only answered inside evaluateCriteria()');
  }
  return active.count(metricKey(metric));
}

/** Event filter as CEL hands it to a function (a map literal: a plain object or a Map). */
function filterArgument(value: unknown): Record<string, FilterValue> {
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  return Object.fromEntries(
    entries.map(([name, v]) => [String(name), typeof v === 'bigint' ? Number(v) : v]),
  );
}

/** Whole seconds of a CEL duration (windows are checked to be whole when compiled). */
function windowArgument(value: unknown): number {
  return Number((value as { seconds: bigint }).seconds);
}

const eventCount = (event: string, filter: unknown, window: unknown): bigint =>
  lookupCount({
    kind: 'event_count',
    event,
    filter: filter === undefined ? {} : filterArgument(filter),
    windowSeconds: window === undefined ? null : windowArgument(window),
  });

const handlers: Readonly<Record<string, (...args: never[]) => bigint>> = {
  'event_count(string): int': (event: string) => eventCount(event, undefined, undefined),
  'event_count(string, map<string, dyn>): int': (event: string, filter: unknown) =>
    eventCount(event, filter, undefined),
  'event_count(string, google.protobuf.Duration): int': (event: string, window: unknown) =>
    eventCount(event, undefined, window),
  'event_count(string, map<string, dyn>, google.protobuf.Duration): int': (
    event: string,
    filter: unknown,
    window: unknown,
  ) => eventCount(event, filter, window),
  'active_users(google.protobuf.Duration): int': (window: unknown) =>
    lookupCount({ kind: 'active_users', windowSeconds: windowArgument(window) }),
};

function createEnvironment(): Environment {
  // Mixed-type map literals are allowed, so that a filter may hold strings, numbers and
  // booleans together: {"status": "success", "attempt": 1}.
  const env = new Environment({
    homogeneousAggregateLiterals: false,
    unlistedVariablesAreDyn: false,
    enableOptionalTypes: false,
  });
  for (const variable of CRITERIA_VARIABLES) {
    const type = variable.signature.slice(variable.signature.indexOf(':') + 1).trim();
    env.registerVariable(variable.name, type, { description: variable.description });
  }
  for (const fn of CRITERIA_FUNCTIONS) {
    const handler = handlers[fn.signature];
    if (handler === undefined) throw new Error(`no handler for ${fn.signature}`);
    env.registerFunction(fn.signature, handler, {
      description: fn.description,
      params: (fn.params ?? []).map((name) => ({ name })),
    });
  }
  return env;
}

/** The CEL environment of criteria (built once: building one is the expensive part). */
export const criteriaEnvironment: Environment = createEnvironment();

/** Names of the functions callable in a criterion (CEL's standard ones and ours). */
export const criteriaFunctionNames: ReadonlySet<string> = new Set(
  criteriaEnvironment
    .getDefinitions()
    .functions.filter((f) => f.receiverType === null)
    .map((f) => f.name),
);
