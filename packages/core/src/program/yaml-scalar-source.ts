import type { CST, Scalar } from 'yaml';

/**
 * Where each character of a YAML scalar's value was written in the source, so that a fault found
 * inside a value (a criterion's syntax error) can be shown at its own line and column.
 *
 * YAML rewrites what it reads: quotes and escapes go, `''` becomes `'`, line breaks fold into
 * spaces, block scalars lose their indentation. The functions below replay the `yaml` library's
 * own rules (compose/resolve-flow-scalar.js and resolve-block-scalar.js, yaml 2.x) while
 * remembering the source offset of every character they produce. The replay is checked against
 * the library's value: when the two differ (a future yaml release folding differently), the
 * result is null and callers fall back to the start of the scalar, never to a wrong place.
 *
 * The source is expected with `\n` line breaks only (callers normalise CRLF first).
 */
export function scalarSourceOffsets(scalar: Scalar): number[] | null {
  const token = scalar.srcToken;
  if (token === undefined || typeof scalar.value !== 'string') return null;
  let replay: Replay | null;
  switch (token.type) {
    case 'scalar':
      replay = unfold(token.source, token.offset);
      break;
    case 'single-quoted-scalar':
      replay = unfold(token.source.slice(1, -1), token.offset + 1, true);
      break;
    case 'double-quoted-scalar':
      replay = doubleQuoted(token.source, token.offset);
      break;
    case 'block-scalar':
      replay = block(token);
      break;
    default:
      replay = null;
  }
  return replay !== null && replay.value === scalar.value ? replay.offsets : null;
}

/**
 * The source offset of the character at `index` of the scalar's value (the end of the scalar
 * for the index just past its last character); null when the source cannot be mapped.
 */
export function sourceOffsetOfValueIndex(scalar: Scalar, index: number): number | null {
  const offsets = scalarSourceOffsets(scalar);
  if (offsets === null) return null;
  if (index < offsets.length) return offsets[Math.max(0, index)] ?? null;
  return scalar.range?.[1] ?? null;
}

class Replay {
  value = '';
  offsets: number[] = [];

  /** Appends `text`, every character of it produced by the source at `at`. */
  emit(text: string, at: number): void {
    this.value += text;
    for (let i = 0; i < text.length; i++) this.offsets.push(at);
  }

  /** Appends source characters that stand for themselves, from `at` on. */
  copy(text: string, at: number): void {
    this.value += text;
    for (let i = 0; i < text.length; i++) this.offsets.push(at + i);
  }
}

interface Line {
  text: string;
  start: number;
}

function splitSourceLines(source: string, offset: number): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (;;) {
    const end = source.indexOf('\n', start);
    lines.push({ text: source.slice(start, end === -1 ? undefined : end), start: offset + start });
    if (end === -1) return lines;
    start = end + 1;
  }
}

/** Copies a line of a plain or single-quoted scalar, turning `''` into `'` in the latter. */
function copyFlowText(replay: Replay, text: string, at: number, singleQuoted: boolean): void {
  if (!singleQuoted) {
    replay.copy(text, at);
    return;
  }
  for (let i = 0; i < text.length; i++) {
    replay.emit(text[i] ?? '', at + i);
    if (text[i] === "'" && text[i + 1] === "'") i++;
  }
}

/** Plain and single-quoted scalars: line breaks fold (one → space, n → n-1 newlines). */
function unfold(source: string, offset: number, singleQuoted = false): Replay {
  const replay = new Replay();
  const lines = splitSourceLines(source, offset);
  const first = lines[0] ?? { text: '', start: offset };
  if (lines.length === 1) {
    copyFlowText(replay, first.text, first.start, singleQuoted);
    return replay;
  }
  copyFlowText(replay, first.text.replace(/[ \t]+$/, ''), first.start, singleQuoted);
  let sep = ' ';
  let sepAt = first.start + first.text.length;
  for (const line of lines.slice(1, -1)) {
    const lead = line.text.length - line.text.replace(/^[ \t]+/, '').length;
    const trimmed = line.text.slice(lead).replace(/[ \t]+$/, '');
    if (trimmed === '') {
      if (sep === '\n') replay.emit(sep, line.start);
      else sep = '\n';
    } else {
      replay.emit(sep, sepAt);
      copyFlowText(replay, trimmed, line.start + lead, singleQuoted);
      sep = ' ';
    }
    sepAt = line.start + line.text.length;
  }
  const last = lines[lines.length - 1] ?? first;
  const lead = last.text.length - last.text.replace(/^[ \t]+/, '').length;
  replay.emit(sep, sepAt);
  copyFlowText(replay, last.text.slice(lead), last.start + lead, singleQuoted);
  return replay;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
};

function doubleQuoted(source: string, offset: number): Replay | null {
  const replay = new Replay();
  for (let i = 1; i < source.length - 1; ++i) {
    const ch = source[i] ?? '';
    if (ch === '\n') {
      // One line break folds into a space, n line breaks into n-1 newlines.
      const at = offset + i;
      let fold = '';
      let next = source[i + 1];
      while (next === ' ' || next === '\t' || next === '\n') {
        if (next === '\n') fold += '\n';
        i += 1;
        next = source[i + 1];
      }
      replay.emit(fold === '' ? ' ' : fold, at);
    } else if (ch === '\\') {
      const at = offset + i;
      const next = source[++i] ?? '';
      const escaped = ESCAPES[next];
      if (escaped !== undefined) {
        replay.emit(escaped, at);
      } else if (next === '\n') {
        // An escaped line break joins the lines; the next line's indentation is dropped.
        while (source[i + 1] === ' ' || source[i + 1] === '\t') i++;
      } else if (next === 'x' || next === 'u' || next === 'U') {
        const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const hex = source.slice(i + 1, i + 1 + length);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) return null;
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) return null;
        replay.emit(String.fromCodePoint(code), at);
        i += length;
      } else {
        return null;
      }
    } else if (ch === ' ' || ch === '\t') {
      // Spaces before a line break are dropped.
      const start = i;
      while (source[i + 1] === ' ' || source[i + 1] === '\t') i++;
      if (source[i + 1] !== '\n') replay.copy(source.slice(start, i + 1), offset + start);
    } else {
      replay.copy(ch, offset + i);
    }
  }
  return replay;
}

/** Literal (`|`) and folded (`>`) block scalars, with their indentation and chomping. */
function block(token: CST.BlockScalar): Replay | null {
  const header = token.props[0];
  if (header?.type !== 'block-scalar-header') return null;
  let explicitIndent = 0;
  let chomp = '';
  for (const ch of header.source.slice(1)) {
    if (chomp === '' && (ch === '-' || ch === '+')) chomp = ch;
    else if (explicitIndent === 0 && Number(ch) > 0) explicitIndent = Number(ch);
  }
  let headerLength = 0;
  for (const prop of token.props) {
    if ('source' in prop && typeof prop.source === 'string') headerLength += prop.source.length;
  }
  const folded = header.source[0] === '>';
  const contentStart = token.offset + headerLength;
  const lines = splitSourceLines(token.source, contentStart).map((line) => {
    const indent = /^ */.exec(line.text)?.[0].length ?? 0;
    return { ...line, indent, content: line.text.slice(indent) };
  });
  if (token.source === '') lines.length = 0;

  const replay = new Replay();
  let chompStart = lines.length;
  for (let i = lines.length - 1; i >= 0; --i) {
    if (lines[i]?.content === '') chompStart = i;
    else break;
  }
  if (chompStart === 0) {
    // No content: only kept ("+") line breaks.
    if (chomp === '+' && lines.length > 0) {
      replay.emit('\n'.repeat(Math.max(1, lines.length - 1)), contentStart);
    }
    return replay;
  }

  let trimIndent = token.indent + explicitIndent;
  let firstContent = 0;
  for (let i = 0; i < chompStart; ++i) {
    const line = lines[i];
    if (line === undefined) break;
    if (line.content === '') {
      if (explicitIndent === 0 && line.indent > trimIndent) trimIndent = line.indent;
    } else {
      if (explicitIndent === 0) trimIndent = line.indent;
      firstContent = i;
      break;
    }
  }
  for (let i = lines.length - 1; i >= chompStart; --i) {
    if ((lines[i]?.indent ?? 0) > trimIndent) chompStart = i + 1;
  }

  const lineEnd = (line: Line) => line.start + line.text.length;
  for (let i = 0; i < firstContent; ++i) {
    const line = lines[i];
    if (line === undefined) continue;
    replay.copy(line.text.slice(trimIndent), line.start + trimIndent);
    replay.emit('\n', lineEnd(line));
  }
  let sep = '';
  let sepAt = contentStart;
  let previousMoreIndented = false;
  for (let i = firstContent; i < chompStart; ++i) {
    const line = lines[i];
    if (line === undefined) continue;
    const keptIndent = Math.min(trimIndent, line.indent);
    const text = line.text.slice(keptIndent);
    const textAt = line.start + keptIndent;
    if (!folded) {
      replay.emit(sep, sepAt);
      replay.copy(text, textAt);
      sep = '\n';
    } else if (line.indent > trimIndent || line.content[0] === '\t') {
      if (sep === ' ') sep = '\n';
      else if (!previousMoreIndented && sep === '\n') sep = '\n\n';
      replay.emit(sep, sepAt);
      replay.copy(text, textAt);
      sep = '\n';
      previousMoreIndented = true;
    } else if (line.content === '') {
      if (sep === '\n') replay.emit('\n', line.start);
      else sep = '\n';
    } else {
      replay.emit(sep, sepAt);
      replay.copy(line.content, line.start + line.indent);
      sep = ' ';
      previousMoreIndented = false;
    }
    sepAt = lineEnd(line);
  }
  if (chomp === '+') {
    for (let i = chompStart; i < lines.length; ++i) {
      const line = lines[i];
      if (line === undefined) continue;
      replay.emit('\n', line.start - 1);
      replay.copy(line.text.slice(trimIndent), line.start + trimIndent);
    }
    if (!replay.value.endsWith('\n')) replay.emit('\n', sepAt);
  } else if (chomp === '') {
    replay.emit('\n', sepAt);
  }
  return replay;
}
