import { type Document, isScalar, type Node, type Pair, visit, type YAMLError } from 'yaml';
import type { ProgramIssue } from './validate-program.js';

// YAML syntax errors worded and placed for people. yaml's own messages describe its parser
// ("Nested mappings are not allowed in compact mappings") and its positions are sometimes where
// it noticed the problem rather than where it is (an unclosed quote is reported at the end of
// the file). Here the common mistakes — indentation, unclosed quotes and brackets, duplicate
// keys, a ": " inside a plain value — are named as such and placed where they are fixed.

/** An issue found in the YAML text itself, before the document is read as a program. */
export interface PlacedIssue {
  issue: ProgramIssue;
  /** Offset in the source the issue points at. */
  offset: number;
}

const start = (node: Node | null): number | undefined => node?.range?.[0];

/** The syntax errors of a document that has some (doc.errors), worded and placed. */
export function syntaxIssues(doc: Document, source: string): PlacedIssue[] {
  // A key that spans lines is how yaml sees a line indented deeper than the key above it; the
  // other errors at the same place say the same thing less clearly.
  const spanning = new Set(
    doc.errors
      .filter((e) => e.code === 'MULTILINE_IMPLICIT_KEY' && spansLines(source, e))
      .map((e) => e.pos[0]),
  );
  const placed = doc.errors
    .filter((e) => !spanning.has(e.pos[0]) || e.code === 'MULTILINE_IMPLICIT_KEY')
    .map((e) => syntaxIssue(doc, source, e, spanning.has(e.pos[0])));

  // After a syntax error yaml's recovery is a guess, and the errors it reports further down
  // are often consequences of the first (every later line "unexpected"). So the first one is
  // reported, and besides it only duplicate keys, which are found reliably wherever they are.
  const sorted = placed.sort((a, b) => a.offset - b.offset);
  const first = sorted.find(({ issue }) => issue.code !== 'yaml_duplicate_key');
  return sorted.filter((item) => item === first || item.issue.code === 'yaml_duplicate_key');
}

function syntaxIssue(
  doc: Document,
  source: string,
  error: YAMLError,
  spanning: boolean,
): PlacedIssue {
  const code = `yaml_${error.code.toLowerCase()}`;
  const at = error.pos[0];
  const issue = (c: string, message: string, offset: number): PlacedIssue => ({
    issue: { code: c, path: [], message },
    offset,
  });

  if (spanning) {
    const nextLine = source.indexOf('\n', at) + 1;
    return issue(
      'yaml_bad_indent',
      'bad indentation: this line is indented more than the key above it, so YAML reads it as part of that value; line it up with its sibling keys',
      firstNonBlank(source, nextLine),
    );
  }
  switch (error.code) {
    case 'DUPLICATE_KEY':
      return duplicateKey(doc, source, at) ?? issue(code, 'duplicate key in a mapping', at);
    case 'MULTIPLE_DOCS':
      return issue(
        code,
        'the file holds more than one YAML document (a line with ---); a program file holds exactly one program',
        firstNonBlank(source, at),
      );
    case 'TAB_AS_INDENT':
      return issue(code, 'tabs cannot indent YAML; indent with spaces', at);
    case 'BAD_INDENT':
      if (/end with a [\]}]/.test(error.message)) return unclosedFlow(doc, at);
      if (error.message.startsWith('All mapping items must start at the same column')) {
        return issue(
          code,
          'bad indentation: this key is not lined up with the other keys of its mapping',
          firstNonBlank(source, at),
        );
      }
      return issue(
        code,
        `bad indentation: ${lowerFirst(error.message)}`,
        firstNonBlank(source, at),
      );
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (error.message.startsWith('A block sequence')) {
        return issue(
          'yaml_bad_indent',
          'bad indentation: this list item is not lined up with the items above it',
          firstNonBlank(source, at),
        );
      }
      return issue(
        code,
        `this value contains ": ", which YAML reads as the start of a nested mapping; put the whole value in single quotes ('...') or write it as a | block`,
        at,
      );
    case 'MISSING_CHAR': {
      const quote = /^Missing closing (["'])quote/.exec(error.message)?.[1];
      if (quote !== undefined) return unclosedQuote(doc, quote, at);
      if (error.message.startsWith('Sequence item without - indicator')) {
        return issue(
          'yaml_bad_indent',
          'bad indentation: this line is indented less than the keys above it, but it does not start a new "- " list item',
          firstNonBlank(source, at),
        );
      }
      return issue(
        code,
        `YAML syntax error: ${lowerFirst(error.message)}`,
        firstNonBlank(source, at),
      );
    }
    default:
      return issue(
        code,
        `YAML syntax error: ${lowerFirst(error.message)}`,
        firstNonBlank(source, at),
      );
  }
}

function duplicateKey(doc: Document, source: string, at: number): PlacedIssue | null {
  let found: PlacedIssue | null = null;
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, Pair>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const first = seen.get(name);
        if (first !== undefined && pair.key.range?.[0] === at) {
          const firstLine = lineIndex(source, start(first.key as Node) ?? 0) + 1;
          found = {
            issue: {
              code: 'yaml_duplicate_key',
              path: [],
              message: `duplicate key "${name}": it is already set on line ${firstLine} of this mapping; each key may appear only once`,
            },
            offset: at,
          };
          return visit.BREAK;
        }
        if (first === undefined) seen.set(name, pair);
      }
      return undefined;
    },
  });
  return found;
}

/** yaml reports an unclosed quote where the text ends; the opening quote is what to fix. */
function unclosedQuote(doc: Document, quote: string, at: number): PlacedIssue {
  let opening = at;
  visit(doc, {
    Scalar(_, scalar) {
      const range = scalar.range;
      const quoted = scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE';
      if (quoted && range != null && range[0] < at && at <= range[1]) opening = range[0];
    },
  });
  return {
    issue: {
      code: 'yaml_unclosed_quote',
      path: [],
      message: `unclosed quote: the text that starts with ${quote} here has no closing ${quote}`,
    },
    offset: opening,
  };
}

/** yaml reports an unclosed `[` or `{` where the next line starts; the opening is what to fix. */
function unclosedFlow(doc: Document, at: number): PlacedIssue {
  // The last flow collection that opens before the place where yaml noticed the error.
  const openings: { offset: number; list: boolean }[] = [];
  const consider = (node: Node & { flow?: boolean }, list: boolean) => {
    const from = start(node);
    if (node.flow === true && from !== undefined && from < at)
      openings.push({ offset: from, list });
  };
  visit(doc, { Seq: (_, seq) => consider(seq, true), Map: (_, map) => consider(map, false) });
  const found = openings.sort((a, b) => b.offset - a.offset)[0];
  const [open, close, what] = found?.list === false ? ['{', '}', 'mapping'] : ['[', ']', 'list'];
  return {
    issue: {
      code: 'yaml_unclosed_bracket',
      path: [],
      message: `unclosed ${open}: the ${what} that starts here has no closing ${close}`,
    },
    offset: found?.offset ?? at,
  };
}

/** Keys must be plain text: a list or mapping used as a key has no field name. */
export function complexKeys(doc: Document): PlacedIssue[] {
  const found: PlacedIssue[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) {
        found.push({
          issue: {
            code: 'yaml_complex_key',
            path: [],
            message: 'a key must be plain text, not a list or a mapping',
          },
          offset: start(pair.key as Node) ?? 0,
        });
      }
    },
  });
  return found;
}

function spansLines(source: string, error: YAMLError): boolean {
  return source.slice(error.pos[0], error.pos[1]).includes('\n');
}

function lineIndex(source: string, offset: number): number {
  let line = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
  }
  return line;
}

/** An offset inside a line's indentation moves to the line's first character. */
function firstNonBlank(source: string, offset: number): number {
  const lineStart = source.lastIndexOf('\n', offset - 1) + 1;
  if (!/^[ \t]*$/.test(source.slice(lineStart, offset))) return offset;
  let i = offset;
  while (source[i] === ' ' || source[i] === '\t') i++;
  return i >= source.length || source[i] === '\n' ? offset : i;
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);
