import { can, type Permission } from '@waymark/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/database.js';
import { HttpProblem } from '../http/problem.js';
import { authenticate, authenticateKey } from './authenticate.js';
import type { Clock } from './clock.js';
import type { Principal } from './principal.js';
import { safeEqual } from './tokens.js';

/**
 * What a route requires, declared on every route under /api/v1:
 * - `public`: anyone (sign-in, set-up, invitation acceptance);
 * - `signedIn`: a person with a session, whatever their role (sign-out, who am I);
 * - `checklist`: a publishable key (as `?key=` or a bearer token), for the in-app checklist;
 * - a permission from core's matrix: a person or a secret API key whose role holds it.
 */
export type Access = 'public' | 'signedIn' | 'checklist' | { permission: Permission };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyInstance {
    /** Every /api/v1 route and what it requires, as registered: `GET /api/v1/users` → rule. */
    accessRules: Map<string, Access>;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const forbidden = (detail: string) => new HttpProblem(403, 'forbidden', 'Forbidden', detail);

/** The principal of a route that is not public; routes call this instead of trusting `request.principal`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new Error(`no principal on ${request.routeOptions.url}: is the route public?`);
  return request.principal;
}

/** The one place where access is decided: authentication, role, key kind, CSRF. */
export const accessControl = fp<{ db: Db; clock: Clock }>(
  async (app: FastifyInstance, { db, clock }) => {
    const rules = new Map<string, Access>();
    app.decorate('accessRules', rules);
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/api/v1/')) return;
      const access = route.config?.access;
      if (access === undefined)
        throw new Error(`${route.method} ${route.url} declares no access rule`);
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') rules.set(`${method} ${route.url}`, access);
      }
    });

    /** Browsers send the publishable key in the query, so the GET needs no CORS preflight. */
    async function checklistPrincipal(request: FastifyRequest): Promise<Principal> {
      const fromQuery = (request.query as { key?: unknown }).key;
      const principal =
        typeof fromQuery === 'string' && fromQuery
          ? await authenticateKey(fromQuery, db, clock())
          : await authenticate(request, db, clock);
      if (principal.kind !== 'api_key' || principal.keyKind !== 'publishable') {
        throw forbidden('the in-app checklist is read with a publishable key');
      }
      return principal;
    }

    app.addHook('onRequest', async (request) => {
      const access = request.routeOptions.config?.access;
      if (access === undefined || access === 'public') return;
      if (access === 'checklist') {
        request.principal = await checklistPrincipal(request);
        return;
      }
      const principal = await authenticate(request, db, clock);

      if (principal.kind === 'api_key') {
        if (principal.keyKind === 'write')
          throw forbidden('a write key can only send events to /v1/*');
        if (principal.keyKind === 'publishable')
          throw forbidden('a publishable key can only read the in-app checklist');
        if (access === 'signedIn')
          throw forbidden('this route is for people signed in to the dashboard');
      }
      if (typeof access === 'object') {
        const role = principal.role;
        if (role === null || !can(role, access.permission)) {
          throw forbidden(
            `the ${role ?? 'key'} role may not ${access.permission.replace(':', ' ')}`,
          );
        }
      }
      // A cookie is sent by the browser on its own; a change needs proof the page itself asked.
      if (principal.kind === 'user' && !SAFE_METHODS.has(request.method)) {
        const sent = request.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !safeEqual(sent, principal.csrfToken)) {
          throw forbidden(
            'missing or wrong x-csrf-token header (get it from GET /api/v1/auth/session)',
          );
        }
      }
      request.principal = principal;
    });
  },
);
