import { type ASTNode, EvaluationError } from '@marcbachmann/cel-js';
import { err, ok, type Result } from '../result.js';
import { type CompiledCriteria, celError, checkedProgram } from './compile-criteria.js';
import { type CriteriaError, criteriaError } from './criteria-error.js';
import { withMetricLookup } from './functions.js';

/** A JSON value: what a trait can hold, and what evidence records. */
export type MetricValue =
  | string
  | number
  | boolean
  | null
  | readonly MetricValue[]
  | { readonly [key: string]: MetricValue };

/**
 * The account's current metric values by `metricKey`: counts (`event_count:…`,
 * `active_users:…`) as whole numbers ≥ 0, `days_since_enrollment` as a whole number, and
 * `trait:<name>` as the trait's JSON value. A missing (or null) count is 0; a missing trait is
 * unset (a trait whose value is null is set, to null).
 * Keys the criterion does not read are ignored.
 */
export type MetricValues = Readonly<Record<string, MetricValue | undefined>>;

export interface CriteriaEvaluation {
  satisfied: boolean;
  /**
   * The value of each metric the criterion reads, by metric key, as used (a missing count is
   * recorded as 0; an unset trait is left out): the completion evidence.
   */
  values: Record<string, MetricValue>;
}

/**
 * Evaluates a compiled criterion over one account's metric values: a pure function of them
 * (the functions look their answer up by the canonical key of their literal arguments; no
 * clock, no I/O). An error instead of a result — e.g. a trait that is read but not set, as in
 * CEL a missing map key — means the criterion is not satisfied; `has(traits.x)` tests for a
 * trait without that error, and `||` / `&&` absorb it as CEL specifies
 * (`traits.x == 1 || true` is true).
 */
export function evaluateCriteria(
  compiled: CompiledCriteria,
  values: MetricValues,
): Result<CriteriaEvaluation, CriteriaError> {
  const program = checkedProgram(compiled);
  if (!program.ok) return err(program.error[0] as CriteriaError);
  const { run, offsets } = program.value;
  const { source } = compiled;

  const counts = new Map<string, bigint>();
  const traits = new Map<string, unknown>();
  const evidence: Record<string, MetricValue> = {};
  const variables: { traits: Map<string, unknown>; days_since_enrollment?: bigint } = { traits };

  for (const key of offsets.keys()) {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    const where = offsets.get(key) ?? 0;
    if (key.startsWith('event_count:') || key.startsWith('active_users:')) {
      const count = value ?? 0;
      if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
        return err(
          criteriaError(
            source,
            where,
            `the value of metric ${key} must be a whole number ≥ 0, got ${describe(count)}`,
          ),
        );
      }
      counts.set(key, BigInt(count));
      evidence[key] = count;
    } else if (key === 'days_since_enrollment') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        const fault =
          value === undefined
            ? 'no value was given for days_since_enrollment'
            : `the value of days_since_enrollment must be a whole number, got ${describe(value)}`;
        return err(criteriaError(source, where, fault));
      }
      variables.days_since_enrollment = BigInt(value);
      evidence[key] = value;
    } else if (key.startsWith('trait:') && value !== undefined) {
      const cel = toCel(value);
      if (cel instanceof Error) {
        return err(criteriaError(source, where, `the value of ${key} ${cel.message}`));
      }
      traits.set(key.slice('trait:'.length), cel);
      evidence[key] = value;
    }
  }

  let result: unknown;
  try {
    result = withMetricLookup(
      {
        count(key) {
          const count = counts.get(key);
          if (count === undefined) throw new Error(`metric ${key} was not found when compiling`);
          return count;
        },
      },
      () => run(variables),
    );
  } catch (error) {
    if (!(error instanceof EvaluationError)) throw error;
    return err(evaluationError(source, error));
  }
  if (typeof result !== 'boolean') {
    return err(
      criteriaError(source, 0, `the criterion gave ${describe(result)}, not true or false`),
    );
  }
  return ok({ satisfied: result, values: evidence });
}

function evaluationError(source: string, error: EvaluationError): CriteriaError {
  const node = error.node as ASTNode | undefined;
  if (error.code === 'no_such_key' && node !== undefined) {
    const [target, field] =
      node.op === '.'
        ? [node.args[0], node.args[1]]
        : node.op === '[]'
          ? [node.args[0], node.args[1].args]
          : [];
    if (target?.op === 'id' && target.args === 'traits' && typeof field === 'string') {
      return criteriaError(
        source,
        error.range?.start ?? 0,
        `the account has no trait ${JSON.stringify(field)}; has(traits.${field}) tells whether it is set`,
      );
    }
  }
  return celError(source, error);
}

/** JSON → CEL: whole numbers become CEL ints, other numbers doubles, objects maps. */
function toCel(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return new Error(`must be a finite number, got ${value}`);
    return Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    for (const element of value) {
      const cel = toCel(element);
      if (cel instanceof Error) return cel;
      list.push(cel);
    }
    return list;
  }
  if (typeof value === 'object') {
    const map = new Map<string, unknown>();
    for (const [name, element] of Object.entries(value)) {
      const cel = toCel(element);
      if (cel instanceof Error) return cel;
      map.set(name, cel);
    }
    return map;
  }
  return new Error(`must be a JSON value, got ${typeof value}`);
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
