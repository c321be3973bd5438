import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { HttpProblem, problemSchema } from '../http/problem.js';
import { findUser, listUsers } from './users.repo.js';
import {
  invitationSchema,
  inviteBodySchema,
  updateUserBodySchema,
  userParamsSchema,
  userSchema,
} from './users.schemas.js';
import type { createUsersService } from './users.service.js';

export interface UsersRoutesDeps {
  db: Db;
  users: ReturnType<typeof createUsersService>;
  /** The dashboard's address for links, from configuration or the request. */
  publicUrl: (requestOrigin: string) => string;
}

const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
};

export function usersRoutes({ db, users, publicUrl }: UsersRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/users',
      {
        config: { access: { permission: 'users:read' } },
        schema: {
          tags: ['people'],
          summary: 'The people of this workspace',
          response: { 200: z.object({ users: z.array(userSchema) }), ...problems },
        },
      },
      async (request) => ({ users: await listUsers(db, principalOf(request).workspaceId) }),
    );

    app.get(
      '/api/v1/users/:userId',
      {
        config: { access: { permission: 'users:read' } },
        schema: {
          tags: ['people'],
          summary: 'One person',
          params: userParamsSchema,
          response: { 200: userSchema, ...problems },
        },
      },
      async (request) => {
        const user = await findUser(db, principalOf(request).workspaceId, request.params.userId);
        if (!user)
          throw new HttpProblem(404, 'not-found', 'Not found', 'no such person in this workspace');
        return user;
      },
    );

    app.patch(
      '/api/v1/users/:userId',
      {
        config: { access: { permission: 'users:manage' } },
        schema: {
          tags: ['people'],
          summary: 'Change a role or manager, deactivate or reactivate',
          params: userParamsSchema,
          body: updateUserBodySchema,
          response: { 200: userSchema, ...problems },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        return users.update(
          principal.workspaceId,
          actorOf(principal),
          request.params.userId,
          request.body,
        );
      },
    );

    app.post(
      '/api/v1/invitations',
      {
        config: { access: { permission: 'users:manage' } },
        schema: {
          tags: ['people'],
          summary: 'Invite a person by email: returns the one-time link to send them',
          body: inviteBodySchema,
          response: { 201: invitationSchema, ...problems },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const actor = actorOf(principal);
        if (actor.id === null) throw new Error('an inviter always has an id');
        const { invitation, token } = await users.invite(
          principal.workspaceId,
          { ...actor, id: actor.id },
          request.body,
        );
        const origin = `${request.protocol}://${request.host}`;
        return reply.status(201).send({
          id: invitation.id,
          email: invitation.email,
          role: invitation.role,
          managerId: invitation.managerId,
          expiresAt: invitation.expiresAt,
          link: `${publicUrl(origin)}/accept-invite?token=${token}`,
        });
      },
    );
  };
}
