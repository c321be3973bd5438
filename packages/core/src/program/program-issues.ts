import { z } from 'zod';
import type { ProgramIssue } from './validate-program.js';

type Path = (string | number)[];

/**
 * Schema problems worded for the person who wrote the program: each message names the milestone
 * or phase (by key), the field and the fault — `Milestone "kickoff": "targetDay" must be a whole
 * number, but is the text "five"`. An unknown field is reported once per field, at the field
 * itself, with the field it most likely meant.
 */
export function schemaIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  root: z.ZodType,
): ProgramIssue[] {
  return issues.flatMap((issue) => toProgramIssues(issue, input, root));
}

function toProgramIssues(issue: z.core.$ZodIssue, input: unknown, root: z.ZodType): ProgramIssue[] {
  const path = issue.path.filter(
    (segment): segment is string | number => typeof segment !== 'symbol',
  );
  const subject = subjectAt(input, path);
  const field = fieldName(subject.within);

  if (issue.code === 'unrecognized_keys') {
    const known = fieldsOf(schemaAt(root, path));
    return issue.keys.map((key) => ({
      code: issue.code,
      path: [...path, key],
      message: subject.say(
        `${field === null ? 'unknown' : `${field} has an unknown`} field "${key}"${suggestion(key, known)}`,
      ),
    }));
  }

  const customCode =
    issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : null;
  return [
    {
      code: customCode ?? issue.code,
      path,
      message: subject.say(describe(issue, path, subject.within, input, root)),
    },
  ];
}

function describe(
  issue: z.core.$ZodIssue,
  path: Path,
  within: Path,
  input: unknown,
  root: z.ZodType,
): string {
  const field = fieldName(within);
  const value = valueAt(input, path);
  const subjectName = field ?? (path.length === 0 ? 'the program' : 'it');
  switch (issue.code) {
    case 'invalid_type': {
      const parent = valueAt(input, path.slice(0, -1));
      const last = path[path.length - 1];
      if (typeof last === 'string' && isRecord(parent) && !Object.hasOwn(parent, last)) {
        const parentField = fieldName(within.slice(0, -1));
        const missing = `missing the required field "${last}"`;
        return parentField === null ? missing : `${parentField} is ${missing}`;
      }
      if (path.length === 0 && (value === null || value === undefined)) {
        return 'the program is empty; it needs at least key, name, phases and milestones';
      }
      const expected = expectedOf(schemaAt(root, path)) ?? issue.expected;
      return `${subjectName} must be ${expected}, but is ${received(value)}`;
    }
    case 'invalid_value':
      return `${subjectName} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, but is ${received(value)}`;
    case 'too_small':
    case 'too_big': {
      const numeric = typeof value === 'number';
      const defaultMessage = /^Too (small|big)/.test(issue.message);
      if (!numeric && !defaultMessage) return `${subjectName} ${issue.message}`;
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const relation =
        issue.code === 'too_small'
          ? inclusive
            ? 'at least'
            : 'more than'
          : inclusive
            ? 'at most'
            : 'less than';
      if (numeric) return `${subjectName} must be ${relation} ${bound}, but is ${value}`;
      const unit = issue.origin === 'string' ? 'characters' : 'items';
      return `${subjectName} must have ${relation} ${bound} ${unit}`;
    }
    default:
      // Our own messages are predicates written to follow the field's name ("must not be
      // empty") or whole sentences that name what they are about; zod's defaults are sentences
      // that do not ("Invalid input: …").
      if (issue.code === 'custom' && /^[A-Z]/.test(issue.message)) return issue.message;
      return /^[a-z]/.test(issue.message)
        ? `${subjectName} ${issue.message}`
        : `${subjectName}: ${issue.message}`;
  }
}

interface Subject {
  /** The path inside the milestone or phase the issue is about (the whole path otherwise). */
  within: Path;
  /** Prefixes a message with the milestone or phase, unless the message already names it. */
  say(message: string): string;
}

const KINDS: Readonly<Record<string, string>> = { milestones: 'Milestone', phases: 'Phase' };

/** The milestone or phase a path points into, named by its key when the raw input has one. */
function subjectAt(input: unknown, path: Path): Subject {
  const [list, index] = path;
  const kind = typeof list === 'string' ? KINDS[list] : undefined;
  const key: unknown =
    typeof index === 'number' ? valueAt(input, [list ?? '', index, 'key']) : null;
  if (kind === undefined || typeof key !== 'string' || key.length === 0) {
    return { within: path, say: (message) => message };
  }
  const name = `${kind} "${key}"`;
  return {
    within: path.slice(2),
    say: (message) => (message.includes(`"${key}"`) ? message : `${name}: ${message}`),
  };
}

/** `"tasks[0].owner"`; null for the subject itself. */
function fieldName(path: Path): string | null {
  if (path.length === 0) return null;
  const joined = path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
  return `"${joined}"`;
}

function valueAt(input: unknown, path: Path): unknown {
  let current = input;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecord(current) && typeof segment === 'string' && Object.hasOwn(current, segment))
      current = current[segment];
    else return undefined;
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function received(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'empty';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `the text ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number') return `the number ${value}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping of fields';
  return String(value);
}

/** The schema inside `.optional()` and `.default()` wrappers. */
export function unwrapSchema(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

/** The schema of the value at a path, following object fields and array elements. */
function schemaAt(root: z.ZodType, path: Path): z.ZodType | undefined {
  let current: z.ZodType | undefined = root;
  for (const segment of path) {
    current = unwrapSchema(current);
    if (current instanceof z.ZodObject && typeof segment === 'string') {
      current = (current.shape as Record<string, z.ZodType>)[segment];
    } else if (current instanceof z.ZodArray && typeof segment === 'number') {
      current = current.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  return current;
}

function fieldsOf(schema: z.ZodType | undefined): string[] {
  const object = unwrapSchema(schema);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

function expectedOf(schema: z.ZodType | undefined): string | undefined {
  const inner = unwrapSchema(schema);
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'a whole number' : 'a number';
  if (inner instanceof z.ZodString) return 'text';
  if (inner instanceof z.ZodBoolean) return 'true or false';
  if (inner instanceof z.ZodArray) return 'a list';
  if (inner instanceof z.ZodObject) return 'a mapping of fields';
  if (inner instanceof z.ZodEnum) {
    return `one of ${inner.options.map((option) => JSON.stringify(option)).join(', ')}`;
  }
  return undefined;
}

/** `; did you mean "targetDay"?` when a known field is close, else the list of known fields. */
function suggestion(key: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const normal = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normal(key);
  const same = known.find((name) => normal(name) === wanted);
  if (same !== undefined) return `; did you mean "${same}"? (fields are written in camelCase)`;
  let best: { name: string; distance: number } | null = null;
  for (const name of known) {
    const distance = editDistance(wanted, normal(name));
    if (best === null || distance < best.distance) best = { name, distance };
  }
  if (best !== null && best.distance <= Math.max(1, Math.floor(wanted.length / 4))) {
    return `; did you mean "${best.name}"?`;
  }
  return `; the fields here are ${known.join(', ')}`;
}

/** Edit distance where swapping two neighbouring letters counts as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
