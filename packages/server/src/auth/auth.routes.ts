import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/database.js';
import { problemSchema } from '../http/problem.js';
import { findUser } from '../users/users.repo.js';
import { findWorkspace } from '../workspaces/workspaces.repo.js';
import { principalOf } from './access.js';
import {
  acceptInvitationBodySchema,
  loginBodySchema,
  setupBodySchema,
  signedInSchema,
} from './auth.schemas.js';
import { type AuthService, presentSignedIn, type StartedSession } from './auth.service.js';
import { SESSION_COOKIE } from './authenticate.js';

export interface AuthRoutesDeps {
  db: Db;
  auth: AuthService;
  /** Sign-in attempts per IP address and minute, before the per-email lockout. */
  signInRateLimit: number;
  /** Mark the session cookie Secure even when the request reached us over plain HTTP. */
  secureCookies: boolean;
}

const problems = { 400: problemSchema, 401: problemSchema, 409: problemSchema, 429: problemSchema };

function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  session: StartedSession,
  secureCookies: boolean,
) {
  reply.setCookie(SESSION_COOKIE, session.token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    // Behind a TLS-terminating proxy the request itself is plain HTTP: the public URL tells.
    secure: request.protocol === 'https' || secureCookies,
    expires: new Date(session.expiresAt),
  });
}

export function authRoutes({
  db,
  auth,
  signInRateLimit,
  secureCookies,
}: AuthRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/auth/login',
      {
        config: { access: 'public', rateLimit: { max: signInRateLimit, timeWindow: 60_000 } },
        schema: {
          tags: ['access'],
          summary: 'Sign in with email and password; sets the session cookie',
          body: loginBodySchema,
          response: { 200: signedInSchema, ...problems },
        },
      },
      async (request, reply) => {
        const session = await auth.signIn(request.body.email, request.body.password);
        setSessionCookie(request, reply, session, secureCookies);
        return session.signedIn;
      },
    );

    app.post(
      '/api/v1/auth/logout',
      {
        config: { access: 'signedIn' },
        schema: {
          tags: ['access'],
          summary: 'End this session',
          response: { 204: z.null(), 401: problemSchema, 403: problemSchema },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.kind === 'user')
          await auth.signOut(principal.sessionTokenHash, principal.workspaceId, principal.userId);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/v1/auth/session',
      {
        config: { access: 'signedIn' },
        schema: {
          tags: ['access'],
          summary: 'Who is signed in, and the CSRF token for changes',
          response: { 200: signedInSchema, 401: problemSchema },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        if (principal.kind !== 'user') throw new Error('signedIn routes admit people only');
        const [user, workspace] = await Promise.all([
          findUser(db, principal.workspaceId, principal.userId),
          findWorkspace(db, principal.workspaceId),
        ]);
        if (!user || !workspace) throw new Error('session without its person or workspace');
        return presentSignedIn(user, workspace, principal.csrfToken);
      },
    );

    app.post(
      '/api/v1/setup',
      {
        config: { access: 'public', rateLimit: { max: signInRateLimit, timeWindow: 60_000 } },
        schema: {
          tags: ['access'],
          summary:
            'First start: create the workspace and its first admin with the one-time set-up link',
          body: setupBodySchema,
          response: { 201: signedInSchema, ...problems },
        },
      },
      async (request, reply) => {
        const session = await auth.setUp(request.body);
        setSessionCookie(request, reply, session, secureCookies);
        return reply.status(201).send(session.signedIn);
      },
    );

    app.post(
      '/api/v1/invitations/accept',
      {
        config: { access: 'public', rateLimit: { max: signInRateLimit, timeWindow: 60_000 } },
        schema: {
          tags: ['access'],
          summary: 'Accept an invitation: choose a name and password, and sign in',
          body: acceptInvitationBodySchema,
          response: { 201: signedInSchema, ...problems },
        },
      },
      async (request, reply) => {
        const session = await auth.acceptInvitation(request.body);
        setSessionCookie(request, reply, session, secureCookies);
        return reply.status(201).send(session.signedIn);
      },
    );
  };
}
