import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  visit,
} from 'yaml';
import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import {
  checkProgramDefinition,
  type ProgramDefinition,
  type ProgramDefinitionInput,
  programDefinitionSchema,
} from './program.js';
import { unwrapSchema } from './program-issues.js';
import type { ProgramIssue } from './validate-program.js';
import { sourceOffsetOfValueIndex } from './yaml-scalar-source.js';
import { complexKeys, syntaxIssues } from './yaml-syntax-errors.js';

/**
 * A program issue placed in the file it came from: 1-based line and column (UTF-16 code units,
 * as editors and LSP count them) of the character a person should look at.
 */
export type LocatedIssue = ProgramIssue & { file: string; line: number; column: number };

/** A YAML program checked from end to end; `program` is null when there is an error. */
export interface ProgramYamlCheck {
  program: ProgramDefinition | null;
  errors: LocatedIssue[];
  warnings: LocatedIssue[];
}

/**
 * Parses a program written in YAML (camelCase fields, as in JSON and the API) and reports every
 * problem at its place in the file: YAML syntax errors and duplicate keys first and alone (the
 * document is not read further), then schema problems, then the program's own rules
 * (dependencies, phases, criteria). A fault inside a criterion is shown at its own character
 * inside the expression. Pure: the caller reads the file.
 */
export function parseProgramYaml(
  text: string,
  file = '<input>',
): Result<ProgramDefinition, LocatedIssue[]> {
  const { program, errors } = checkProgramYaml(text, file);
  return program === null ? err(errors) : ok(program);
}

/** parseProgramYaml with the warnings too (e.g. a milestone due before its dependency). */
export function checkProgramYaml(text: string, file = '<input>'): ProgramYamlCheck {
  // Line breaks are normalised (columns do not change) and a byte-order mark dropped (editors
  // do not count it as a column), so that offsets, lines and columns agree everywhere below.
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, {
    lineCounter,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const place = (issue: ProgramIssue, offset: number): LocatedIssue => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, source.length)));
    return line === 0
      ? { ...issue, file, line: 1, column: offset + 1 }
      : { ...issue, file, line, column: col };
  };
  const warnings = doc.warnings.map((warning) =>
    place(
      { code: `yaml_${warning.code.toLowerCase()}`, path: [], message: warning.message },
      warning.pos[0],
    ),
  );

  const syntax = doc.errors.length > 0 ? syntaxIssues(doc, source) : complexKeys(doc);
  if (syntax.length > 0) {
    return {
      program: null,
      errors: byPlace(syntax.map(({ issue, offset }) => place(issue, offset))),
      warnings,
    };
  }

  let input: unknown;
  try {
    input = doc.toJS();
  } catch (error) {
    // yaml refuses documents whose aliases expand without bound ("billion laughs").
    const message = error instanceof Error ? error.message : String(error);
    const issue = {
      code: 'yaml_unreadable',
      path: [],
      message: `cannot read the YAML: ${message}`,
    };
    return { program: null, errors: [place(issue, 0)], warnings };
  }

  const checked = checkProgramDefinition(input);
  const locate = (issue: ProgramIssue) => place(issue, offsetOf(doc, issue));
  return {
    program: checked.program,
    errors: byPlace(checked.errors.map(locate)),
    warnings: byPlace([...warnings, ...checked.warnings.map(locate)]),
  };
}

/** `file:line:column: message`, as compilers print it; warnings say so. */
export function formatIssue(
  issue: LocatedIssue,
  options: { severity?: 'error' | 'warning' } = {},
): string {
  const severity = options.severity === 'warning' ? 'warning: ' : '';
  return `${issue.file}:${issue.line}:${issue.column}: ${severity}${issue.message}`;
}

function byPlace(issues: LocatedIssue[]): LocatedIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort(
      (a, b) => a.issue.line - b.issue.line || a.issue.column - b.issue.column || a.index - b.index,
    )
    .map(({ issue }) => issue);
}

// --- Where a program issue is in the document ------------------------------------------------

type Located = { node: Node | null; key: Node | null; parent: Node | null; missing: boolean };

function walk(doc: Document, path: readonly (string | number)[]): Located {
  let node: Node | null = (doc.contents as Node | null) ?? null;
  let key: Node | null = null;
  let parent: Node | null = null;
  for (const segment of path) {
    if (isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
    if (isMap(node) && typeof segment === 'string') {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === segment,
      );
      if (pair === undefined) return { node: null, key: null, parent: node, missing: true };
      parent = node;
      key = pair.key as Node;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) return { node: null, key: null, parent: node, missing: true };
      parent = node;
      key = null;
      node = item;
    } else {
      break;
    }
  }
  return { node, key, parent, missing: false };
}

const start = (node: Node | null): number | undefined => node?.range?.[0];

/**
 * The source offset an issue points at: the value at its path; an unknown field's own key; the
 * mapping that lacks a required field; the very character of a criterion's fault.
 */
function offsetOf(doc: Document, issue: ProgramIssue): number {
  const { node, key, parent, missing } = walk(doc, issue.path);
  if (missing) return start(parent) ?? 0;
  if (issue.code === 'unrecognized_keys' && key !== null) return start(key) ?? 0;
  if (issue.code === 'invalid_criteria' && issue.position !== undefined && isScalar(node)) {
    const inside = criteriaOffset(node, issue.position);
    if (inside !== null) return inside;
  }
  // `targetDay:` with nothing after it: the key is where the author looks.
  const token = isScalar(node) ? node.srcToken : undefined;
  const empty =
    isScalar(node) &&
    node.value === null &&
    token !== undefined &&
    'source' in token &&
    token.source === '';
  if (empty && key !== null) return start(key) ?? 0;
  return start(node) ?? start(key) ?? start(parent) ?? 0;
}

/** The source offset of a 1-based line and column inside a criterion written as this scalar. */
function criteriaOffset(scalar: Scalar, position: { line: number; column: number }): number | null {
  if (typeof scalar.value !== 'string') return null;
  // The schema trims criteria before they are compiled, so positions count from the first
  // non-blank character of the value.
  const raw = scalar.value;
  const expression = raw.trim();
  const lead = raw.length - raw.trimStart().length;
  let offset = 0;
  for (let line = 1; line < position.line; line++) {
    const end = expression.indexOf('\n', offset);
    if (end === -1) return null;
    offset = end + 1;
  }
  return sourceOffsetOfValueIndex(scalar, lead + offset + position.column - 1);
}

// --- Writing a program as YAML -----------------------------------------------------------------

/** Lists of keys that read best on one line: `dependsOn: [kickoff, admin-access]`. */
const FLOW_LISTS = new Set(['dependsOn', 'verification', 'audience', 'segments']);

/**
 * A program as YAML, for `waymark export` and for people: fields in the schema's order (key,
 * name, …; a milestone's key, title, phase, targetDay, …), one blank line between milestones,
 * short lists of keys on one line, multi-line text as `|` blocks, no line folding. Empty
 * `dependsOn` lists are left out (they are the default). parseProgramYaml reads it back to the
 * same program.
 */
export function serializeProgramYaml(
  program: ProgramDefinitionInput,
  options: { schema?: string } = {},
): string {
  const doc = new Document(ordered(program, programDefinitionSchema));
  if (options.schema !== undefined) {
    doc.commentBefore = ` yaml-language-server: $schema=${options.schema}`;
  }
  const root = doc.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      const name = isScalar(pair.key) ? pair.key.value : null;
      if (name === 'phases' || name === 'milestones') {
        (pair.key as Node).spaceBefore = true;
      }
      if (name === 'milestones' && isSeq(pair.value)) {
        pair.value.items.forEach((item, index) => {
          if (index > 0 && isMap(item)) item.spaceBefore = true;
        });
      }
    }
  }
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && FLOW_LISTS.has(String(pair.key.value)) && isSeq(pair.value)) {
        pair.value.flow = true;
      }
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: true, flowCollectionPadding: false });
}

/** A copy of `value` with object keys in the order of the schema; unknown keys follow. */
function ordered(value: unknown, schema: z.ZodType | undefined): unknown {
  const inner = unwrapSchema(schema);
  if (Array.isArray(value)) {
    const element = inner instanceof z.ZodArray ? (inner.element as z.ZodType) : undefined;
    return value.map((item) => ordered(item, element));
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const shape: Record<string, z.ZodType> =
    inner instanceof z.ZodObject ? (inner.shape as Record<string, z.ZodType>) : {};
  const keys = [...Object.keys(shape), ...Object.keys(record).filter((k) => !(k in shape))];
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    const field = record[key];
    if (field === undefined || !Object.hasOwn(record, key)) continue;
    if (key === 'dependsOn' && Array.isArray(field) && field.length === 0) continue;
    result[key] = ordered(field, shape[key]);
  }
  return result;
}
