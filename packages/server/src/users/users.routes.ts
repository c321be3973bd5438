import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { notFound, problemSchema } from '../http/problem.js';
import type { Mailer } from '../mail/mailer.js';
import { findWorkspace } from '../workspaces/workspaces.repo.js';
import { invitationEmail } from './invitation-email.js';
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
  /** Sends invitations by email when SMTP is configured. */
  mailer: Mailer | null;
}

const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
};

export function usersRoutes({
  db,
  users,
  publicUrl,
  mailer,
}: UsersRoutesDeps): FastifyPluginAsyncZod {
  /**
   * Sends the invitation; a failed send leaves the invitation valid and says so,
   * as the admin still holds the link.
   */
  async function emailInvitation(
    request: FastifyRequest,
    invitation: {
      workspaceId: string;
      invitedBy: string;
      email: string;
      role: string;
      expiresAt: string;
    },
    link: string,
  ): Promise<boolean> {
    if (!mailer) return false;
    const [inviter, workspace] = await Promise.all([
      findUser(db, invitation.workspaceId, invitation.invitedBy),
      findWorkspace(db, invitation.workspaceId),
    ]);
    const message = invitationEmail({
      to: invitation.email,
      inviterName: inviter?.name ?? 'An admin',
      workspaceName: workspace?.name ?? 'a workspace',
      role: invitation.role,
      link,
      expiresAt: invitation.expiresAt,
    });
    try {
      await mailer.send(message);
      return true;
    } catch (error) {
      request.log.warn({ err: (error as Error).message }, 'the invitation email could not be sent');
      return false;
    }
  }

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
        if (!user) throw notFound('person in this workspace');
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
        const link = `${publicUrl(origin)}/accept-invite?token=${token}`;
        const emailed = await emailInvitation(request, invitation, link);
        return reply.status(201).send({
          id: invitation.id,
          email: invitation.email,
          role: invitation.role,
          managerId: invitation.managerId,
          expiresAt: invitation.expiresAt,
          link,
          emailed,
        });
      },
    );
  };
}
