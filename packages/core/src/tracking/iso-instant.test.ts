import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instantMs, isoInstant } from './iso-instant.js';

describe('isoInstant', () => {
  it('writes every instant as toISOString does, in any order', () => {
    const instant = fc.oneof(
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      // Runs within an hour or two, as a request's calls come.
      fc.integer({ min: 1_780_000_000_000, max: 1_780_007_200_000 }),
      fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
      fc.double({ min: -1e13, max: 1e13, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(instant, { maxLength: 40 }), (instants) => {
        for (const ms of instants) expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2_000 },
    );
  });

  it('refuses what is no instant, as toISOString does', () => {
    expect(() => isoInstant(Number.NaN)).toThrow(RangeError);
  });
});

describe('instantMs', () => {
  it('reads every instant isoInstant writes, in any order', () => {
    const instant = fc.oneof(
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      fc.integer({ min: 1_780_000_000_000, max: 1_780_007_200_000 }),
    );
    fc.assert(
      fc.property(fc.array(instant, { maxLength: 40 }), (instants) => {
        for (const ms of instants) expect(instantMs(isoInstant(ms))).toBe(ms);
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads any text as Date.parse does, after an instant of the same hour', () => {
    // Texts one character away from an instant of the hour last read: a digit out of range, a
    // separator changed, another zone, a shorter or longer text.
    const base = '2026-05-07T10:41:07.042Z';
    const text = fc
      .tuple(
        fc.nat({ max: base.length - 1 }),
        fc.constantFrom('0', '5', '6', '9', ':', '.', '-', 'Z', '+', 'x', ' ', '', '00'),
      )
      .map(([at, put]) => `${base.slice(0, at)}${put}${base.slice(at + 1)}`);
    fc.assert(
      fc.property(text, (changed) => {
        expect(instantMs(base)).toBe(Date.parse(base));
        expect(instantMs(changed)).toBe(Date.parse(changed));
      }),
      { numRuns: 2_000 },
    );
  });
});
