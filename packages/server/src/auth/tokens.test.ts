import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csrfTokenFor,
  displayPrefix,
  hashToken,
  newToken,
  safeEqual,
  TOKEN_PREFIXES,
} from './tokens.js';

describe('tokens', () => {
  it('shows only the kind and six characters, even when the secret holds underscores', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...(Object.keys(TOKEN_PREFIXES) as (keyof typeof TOKEN_PREFIXES)[])),
        (kind) => {
          const token = newToken(kind);
          expect(displayPrefix(token)).toBe(token.slice(0, TOKEN_PREFIXES[kind].length + 7));
        },
      ),
    );
    expect(displayPrefix('wm_sk_ab_cdefghij_klmnop')).toBe('wm_sk_ab_cde');
  });

  it('hashes deterministically and derives a CSRF token only the session holder can compute', () => {
    const token = newToken('session');
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(csrfTokenFor(token)).not.toBe(csrfTokenFor(newToken('session')));
    expect(safeEqual(csrfTokenFor(token), csrfTokenFor(token))).toBe(true);
    expect(safeEqual('a', 'ab')).toBe(false);
  });
});
