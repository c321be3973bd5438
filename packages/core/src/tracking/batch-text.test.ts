import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchElementTexts } from './batch-text.js';

/** JSON text of `value` with whitespace of the given kinds wherever JSON allows it. */
function spaced(value: unknown, space: () => string): string {
  if (Array.isArray(value)) {
    return `[${space()}${value.map((v) => `${spaced(v, space)}${space()}`).join(`,${space()}`)}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(
      ([k, v]) => `${JSON.stringify(k)}${space()}:${space()}${spaced(v, space)}${space()}`,
    );
    return `{${space()}${members.join(`,${space()}`)}}`;
  }
  return JSON.stringify(value);
}

describe('batchElementTexts', () => {
  it('finds each element of any batch, written compactly or spaced out', () => {
    const whitespace = fc.array(fc.constantFrom(' ', '\n', '\r', '\t'), { maxLength: 3 });
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 8 }),
        fc.dictionary(
          fc.string().filter((k) => k !== 'batch'),
          fc.jsonValue(),
          { maxKeys: 3 },
        ),
        fc.infiniteStream(whitespace),
        (batch, others, spaces) => {
          const space = () => spaces.next().value.join('');
          const body = { ...others, batch };
          for (const text of [JSON.stringify(body), spaced(body, space)]) {
            const texts = batchElementTexts(text);
            expect(texts?.map((t) => JSON.parse(t))).toEqual(JSON.parse(text).batch);
            // Each is a piece of the text itself, not a copy written anew.
            for (const t of texts ?? []) expect(text.includes(t)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes the last top-level batch, as JSON.parse does, and only a top-level one', () => {
    expect(batchElementTexts('{"batch":[1],"x":{"batch":[2]},"batch":[ 3 ,4]}')).toEqual([
      '3',
      '4',
    ]);
    expect(batchElementTexts('{"b\\u0061tch":["escaped key"]}')).toEqual(['"escaped key"']);
    expect(batchElementTexts('{"batch":[]}')).toEqual([]);
    expect(batchElementTexts('{"batch":[1],"batch":{}}')).toBeNull();
    expect(batchElementTexts('{"x":[{"batch":[1]}]}')).toBeNull();
    expect(batchElementTexts('[{"batch":[1]}]')).toBeNull();
  });

  it('tells quotes and brackets inside strings from structure', () => {
    const text = '{"batch":[{"s":"\\\\"},{"s":"\\"]}"},"]\\\\\\"[",{"a":[{"b":"}"}]}]}';
    expect(batchElementTexts(text)?.map((t) => JSON.parse(t))).toEqual(JSON.parse(text).batch);
  });
});
