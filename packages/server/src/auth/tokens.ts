import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer secrets: 32 random bytes behind a readable prefix (`wm_sk_…`), so a
 * leaked token is recognisable in code and logs scanners. Only the SHA-256 is
 * stored: 256 bits of entropy need no slow hash.
 */
export const TOKEN_PREFIXES = {
  session: 'wm_ses',
  secret: 'wm_sk',
  write: 'wm_wk',
  publishable: 'wm_pk',
  invitation: 'wm_inv',
  setup: 'wm_setup',
} as const;
export type TokenKind = keyof typeof TOKEN_PREFIXES;

export function newToken(kind: TokenKind): string {
  return `${TOKEN_PREFIXES[kind]}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What may be shown of a key after creation: its prefix and first characters. */
export function displayPrefix(token: string): string {
  // The random part is base64url and may itself hold `_`: count from the known prefix.
  const kind = /^wm_[a-z]+_/.exec(token)?.[0] ?? '';
  return token.slice(0, kind.length + 6);
}

/**
 * The CSRF token of a session, derived from the session's secret: a page on
 * another origin can neither read the cookie nor compute this.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('waymark-csrf').digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The identity-verification secret of a publishable key: derived from the server
 * secret, so it is never stored, and shown to the admin when the key is made.
 */
export function identitySecretFor(serverSecret: string, keyId: string): string {
  return createHmac('sha256', serverSecret).update(`identity:${keyId}`).digest('hex');
}

/**
 * What the customer's backend computes for each page view: HMAC-SHA256 of
 * `<account external id>:<user id>` with the key's identity secret, in hex.
 */
export function identityHash(
  identitySecret: string,
  accountExternalId: string,
  userId: string,
): string {
  return createHmac('sha256', identitySecret)
    .update(`${accountExternalId}:${userId}`)
    .digest('hex');
}
