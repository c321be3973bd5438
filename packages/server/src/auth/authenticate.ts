import { isRole } from '@waymark/core';
import type { FastifyRequest } from 'fastify';
import { findApiKeyByTokenHash, touchApiKey } from '../api-keys/api-keys.repo.js';
import { fromDbFlag } from '../db/codec.js';
import type { Db } from '../db/database.js';
import { HttpProblem } from '../http/problem.js';
import type { Clock } from './clock.js';
import type { Principal } from './principal.js';
import { findLiveSession, touchSession } from './sessions.repo.js';
import { csrfTokenFor, hashToken } from './tokens.js';

export const SESSION_COOKIE = 'waymark_session';

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Not signed in', detail);

/**
 * Resolves the caller from a bearer API key or the session cookie. The answers say
 * what is wrong with the credential, never whether some email or key exists elsewhere.
 */
export async function authenticate(
  request: FastifyRequest,
  db: Db,
  clock: Clock,
): Promise<Principal> {
  const now = clock();
  const header = request.headers.authorization;
  if (header !== undefined) {
    const [scheme, token] = header.split(' ', 2);
    if (scheme?.toLowerCase() !== 'bearer' || !token) {
      throw unauthorized('use "Authorization: Bearer <API key>"');
    }
    return authenticateKey(token, db, now);
  }

  const token = request.cookies[SESSION_COOKIE];
  if (!token) throw unauthorized('sign in, or send an API key as a bearer token');
  const tokenHash = hashToken(token);
  const session = await findLiveSession(db, tokenHash, now);
  if (!session || !fromDbFlag(session.active) || !isRole(session.role)) {
    throw unauthorized('the session has expired or was ended; sign in again');
  }
  // Seen-at is kept to the minute, not written on every request.
  if (Date.parse(now) - Date.parse(session.lastSeenAt) > 60_000)
    await touchSession(db, tokenHash, now);
  return {
    kind: 'user',
    workspaceId: session.workspaceId,
    userId: session.userId,
    role: session.role,
    sessionTokenHash: tokenHash,
    csrfToken: csrfTokenFor(token),
  };
}

/** The API key a token belongs to, if it is valid and not revoked. */
export async function authenticateKey(token: string, db: Db, now: string): Promise<Principal> {
  const key = await findApiKeyByTokenHash(db, hashToken(token));
  if (!key) throw unauthorized('the API key is not valid');
  if (key.revokedAt) throw unauthorized('the API key was revoked');
  await touchApiKey(db, key.id, now);
  return {
    kind: 'api_key',
    workspaceId: key.workspaceId,
    keyId: key.id,
    keyKind: key.kind,
    role: key.role,
  };
}
