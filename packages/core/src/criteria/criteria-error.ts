/**
 * A fault in a criterion, placed in its source. `line` and `column` are 1-based and count
 * UTF-16 code units (what JavaScript strings, browsers' editors and LSP count); `offset` is the
 * 0-based index into the source string. A criterion may span lines.
 */
export interface CriteriaError {
  message: string;
  line: number;
  column: number;
  offset: number;
}

/** Line and column (both 1-based) of a 0-based offset; the offset is clamped to the source. */
export function positionAt(
  source: string,
  offset: number,
): { line: number; column: number; offset: number } {
  const at = Math.max(0, Math.min(Math.trunc(offset), source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (source.charCodeAt(i) === 10 /* \n */) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1, offset: at };
}

export function criteriaError(source: string, offset: number, message: string): CriteriaError {
  return { message, ...positionAt(source, offset) };
}
