import {
  type ASTNode,
  type TypeError as CelTypeError,
  type EvaluationError,
  ParseError,
  type ParseResult,
} from '@marcbachmann/cel-js';
import { err, ok, type Result } from '../result.js';
import { type CriteriaError, criteriaError } from './criteria-error.js';
import {
  CRITERIA_FUNCTIONS,
  CRITERIA_VARIABLES,
  criteriaEnvironment,
  criteriaFunctionNames,
} from './functions.js';
import { type Metric, readMetrics } from './metrics.js';

/**
 * A criterion that parsed and type-checked, with the metrics it reads. It is plain data (it
 * can be stored as JSON); the checked program is kept aside for `evaluateCriteria`, which
 * compiles `source` again when handed a copy.
 */
export interface CompiledCriteria {
  readonly source: string;
  /** Every metric the criterion reads, each once, ordered by key. */
  readonly metrics: readonly Metric[];
  /** `metricKey` of each of `metrics`, in the same order. */
  readonly metricKeys: readonly string[];
}

/** What evaluation needs besides the data: the checked program and where each metric is read. */
export interface CheckedProgram {
  readonly run: ParseResult;
  /** Metric key → offset of its first read in the source, to place evaluation errors. */
  readonly offsets: ReadonlyMap<string, number>;
}

const programs = new WeakMap<CompiledCriteria, CheckedProgram>();

/**
 * Parses and type-checks a criterion (CEL over one account's product data, see functions.ts)
 * and reads the metrics it needs. Refused, with the place of each fault: syntax errors,
 * unknown functions and variables, wrong argument types, a result that is not a bool,
 * `duration("…")` literals that do not parse, and event names, filters, windows or trait
 * names that are not literals (a metric must be known when the program is saved).
 */
export function compileCriteria(source: string): Result<CompiledCriteria, CriteriaError[]> {
  const compiled = compile(source);
  if (!compiled.ok) return compiled;
  programs.set(compiled.value.criteria, compiled.value.program);
  return ok(compiled.value.criteria);
}

/** The checked program of a compiled criterion; compiled again from `source` for a copy. */
export function checkedProgram(
  criteria: CompiledCriteria,
): Result<CheckedProgram, CriteriaError[]> {
  const known = programs.get(criteria);
  if (known !== undefined) return ok(known);
  const compiled = compile(criteria.source);
  if (!compiled.ok) return compiled;
  programs.set(criteria, compiled.value.program);
  return ok(compiled.value.program);
}

function compile(
  source: string,
): Result<{ criteria: CompiledCriteria; program: CheckedProgram }, CriteriaError[]> {
  if (source.trim() === '') return err([criteriaError(source, 0, 'the criterion is empty')]);
  let run: ParseResult;
  try {
    run = criteriaEnvironment.parse(source);
  } catch (error) {
    if (error instanceof ParseError) return err([celError(source, error)]);
    throw error;
  }
  const checked = run.check();
  if (!checked.valid) {
    return err([
      checked.error === undefined
        ? criteriaError(source, 0, 'the criterion does not type-check')
        : celError(source, checked.error),
    ]);
  }

  const errors: CriteriaError[] = [];
  if (checked.type !== 'bool') {
    const hint = checked.type === 'dyn' ? '; compare the value, e.g. traits.enabled == true' : '';
    errors.push(
      criteriaError(
        source,
        run.ast.start,
        `a criterion must be true or false (type bool), but this one is of type ${checked.type}${hint}`,
      ),
    );
  }
  const { reads, errors: readErrors } = readMetrics(run.ast, source);
  errors.push(...readErrors);
  if (errors.length > 0) return err(errors.sort((a, b) => a.offset - b.offset));

  const criteria: CompiledCriteria = {
    source,
    metrics: reads.map((read) => read.metric),
    metricKeys: reads.map((read) => read.key),
  };
  const offsets = new Map(reads.map((read) => [read.key, read.offset]));
  return ok({ criteria, program: { run, offsets } });
}

const OUR_FUNCTIONS = new Map<string, string[]>();
for (const fn of CRITERIA_FUNCTIONS) {
  const name = fn.signature.slice(0, fn.signature.indexOf('('));
  const params = fn.signature.slice(fn.signature.indexOf('('), fn.signature.lastIndexOf(':'));
  OUR_FUNCTIONS.set(name, [...(OUR_FUNCTIONS.get(name) ?? []), params]);
}

/** A parse, type or evaluation error of the CEL library, placed and worded for authors. */
export function celError(
  source: string,
  error: ParseError | CelTypeError | EvaluationError,
): CriteriaError {
  const offset = error.range?.start ?? 0;
  return criteriaError(source, offset, explain(error));
}

function explain(error: ParseError | CelTypeError | EvaluationError): string {
  const node = error.node as ASTNode | undefined;
  if (error.code === 'no_matching_overload' && node?.op === 'call') {
    const name = node.args[0];
    const forms = OUR_FUNCTIONS.get(name);
    if (forms !== undefined) {
      return `${error.summary}; ${name} takes ${forms.map((f) => `${name}${f}`).join(', ')}`;
    }
    if (!criteriaFunctionNames.has(name)) {
      return `unknown function '${name}'; a criterion can call ${[...OUR_FUNCTIONS.keys()].join(
        '(), ',
      )}() and CEL's standard functions`;
    }
  }
  if (error.code === 'unknown_variable' && node?.op === 'id') {
    return `unknown variable '${node.args}'; a criterion can read ${CRITERIA_VARIABLES.map(
      (v) => v.name,
    ).join(' and ')}`;
  }
  if (error.summary === 'Unexpected token: EOF') return 'unexpected end of the criterion';
  return error.summary;
}
