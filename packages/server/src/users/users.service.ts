import type { Actor } from '@waymark/core';
import { recordAudit } from '../audit/record-audit.js';
import type { Clock } from '../auth/clock.js';
import { insertInvitation } from '../auth/invitations.repo.js';
import { revokeUserSessions } from '../auth/sessions.repo.js';
import { hashToken, newToken } from '../auth/tokens.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { HttpProblem, invalidField, notFound } from '../http/problem.js';
import { findCredentialsByEmail, findUser, type User, updateUser } from './users.repo.js';

const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const personNotFound = () => notFound('person in this workspace');

export function createUsersService({ db, clock }: { db: Db; clock: Clock }) {
  async function assertManager(workspaceId: string, managerId: string | null | undefined) {
    if (managerId === null || managerId === undefined) return;
    const manager = await findUser(db, workspaceId, managerId);
    if (!manager || !['admin', 'manager'].includes(manager.role)) {
      throw invalidField('body.managerId', 'not an admin or manager of this workspace');
    }
  }

  return {
    async invite(
      workspaceId: string,
      actor: Actor & { id: string },
      input: { email: string; role: User['role']; managerId: string | null },
    ) {
      await assertManager(workspaceId, input.managerId);
      if (await findCredentialsByEmail(db, input.email)) {
        throw new HttpProblem(
          409,
          'email-taken',
          'Email already in use',
          `${input.email} already has a sign-in`,
        );
      }
      const now = clock();
      const token = newToken('invitation');
      const invitation = {
        id: newId(),
        workspaceId,
        email: input.email,
        role: input.role,
        managerId: input.managerId,
        invitedBy: actor.id,
        createdAt: now,
        expiresAt: new Date(Date.parse(now) + INVITATION_TTL_MS).toISOString(),
        acceptedAt: null,
        revokedAt: null,
      };
      await db.transaction().execute(async (trx) => {
        await insertInvitation(trx, invitation, hashToken(token));
        await recordAudit(
          trx,
          workspaceId,
          now,
          actor,
          'invitation.created',
          { type: 'invitation', id: invitation.id },
          {
            after: {
              email: invitation.email,
              role: invitation.role,
              managerId: invitation.managerId,
            },
          },
        );
      });
      return { invitation, token };
    },

    /** Role, manager and deactivation; deactivating ends every session but keeps all history. */
    async update(
      workspaceId: string,
      actor: Actor,
      userId: string,
      changes: Partial<Pick<User, 'role' | 'managerId' | 'active'>>,
    ) {
      const before = await findUser(db, workspaceId, userId);
      if (!before) throw personNotFound();
      await assertManager(workspaceId, changes.managerId);
      if (changes.managerId === userId) {
        throw invalidField('body.managerId', 'cannot be the person themselves');
      }
      const now = clock();
      return db.transaction().execute(async (trx) => {
        await updateUser(trx, workspaceId, userId, changes, now);
        if (changes.active === false) await revokeUserSessions(trx, workspaceId, userId, now);
        const after = await findUser(trx, workspaceId, userId);
        if (!after) throw personNotFound();
        const action =
          changes.active === false
            ? 'user.deactivated'
            : changes.active === true && !before.active
              ? 'user.reactivated'
              : 'user.updated';
        await recordAudit(
          trx,
          workspaceId,
          now,
          actor,
          action,
          { type: 'user', id: userId },
          { before, after },
        );
        return after;
      });
    },
  };
}
