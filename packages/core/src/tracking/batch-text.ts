/*
 * Where each call of a /v1/batch body begins and ends in the text that was sent, so that each
 * is kept exactly as sent without being written out again: JSON.stringify of a parsed call
 * costs about twice what finding it in the text does, and ingestion does it for every event.
 *
 * The text has already been accepted by JSON.parse, so it is valid JSON: the scan only tells
 * strings from structure and counts brackets, it does not check anything.
 */

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** 1: a quote; 2: an opening bracket or brace; 3: a closing one; 0: anything else. */
const STRUCTURE = new Uint8Array(128);
STRUCTURE[QUOTE] = 1;
STRUCTURE[OPEN_BRACE] = 2;
STRUCTURE[OPEN_BRACKET] = 2;
STRUCTURE[CLOSE_BRACE] = 3;
STRUCTURE[CLOSE_BRACKET] = 3;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function skipSpace(text: string, at: number): number {
  let i = at;
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** The index after the string whose opening quote is at `at`. */
function afterString(text: string, at: number): number {
  let quote = at;
  for (;;) {
    quote = text.indexOf('"', quote + 1);
    // A quote preceded by an odd number of backslashes is escaped.
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
  }
}

/** The index after the value that starts at `at`. */
function afterValue(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return afterString(text, at);
  let i = at;
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    // A number, true, false or null: up to the separator after it.
    for (let c = first; i < text.length; c = text.charCodeAt(++i)) {
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c)) break;
    }
    return i;
  }
  let depth = 0;
  for (; ; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? (STRUCTURE[c] as number) : 0;
    if (kind === 0) continue;
    if (kind === 1) i = afterString(text, i) - 1;
    else if (kind === 2) depth++;
    else if (--depth === 0) return i + 1;
  }
}

/**
 * The text of each element of the top-level object's `batch` array, as sent (the last `batch`
 * member, which is the one JSON.parse keeps); null when the top level is not an object or its
 * `batch` is not an array. `text` must be JSON that JSON.parse accepts.
 */
export function batchElementTexts(text: string): string[] | null {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return null;
  i = skipSpace(text, i + 1);
  let elements: string[] | null = null;
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = afterString(text, i);
    const key = text.slice(i, keyEnd);
    const isBatch = key === '"batch"' || (key.includes('\\') && JSON.parse(key) === 'batch');
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return null;
    i = skipSpace(text, i + 1);
    if (isBatch) {
      if (text.charCodeAt(i) === OPEN_BRACKET) {
        elements = [];
        i = skipSpace(text, i + 1);
        while (text.charCodeAt(i) !== CLOSE_BRACKET) {
          const end = afterValue(text, i);
          elements.push(text.slice(i, end));
          i = skipSpace(text, end);
          if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
        }
        i++;
      } else {
        elements = null;
        i = afterValue(text, i);
      }
    } else {
      i = afterValue(text, i);
    }
    i = skipSpace(text, i);
    if (text.charCodeAt(i) === COMMA) i = skipSpace(text, i + 1);
  }
  return elements;
}
