import type { Role } from '@waymark/core';
import type { Db } from '../db/database.js';

export interface Invitation {
  id: string;
  workspaceId: string;
  email: string;
  role: Role;
  managerId: string | null;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
  revokedAt: string | null;
}

export async function insertInvitation(db: Db, inv: Invitation, tokenHash: string): Promise<void> {
  await db
    .insertInto('invitations')
    .values({
      id: inv.id,
      token_hash: tokenHash,
      workspace_id: inv.workspaceId,
      email: inv.email.toLowerCase(),
      role: inv.role,
      manager_id: inv.managerId,
      invited_by: inv.invitedBy,
      created_at: inv.createdAt,
      expires_at: inv.expiresAt,
      accepted_at: inv.acceptedAt,
      revoked_at: inv.revokedAt,
    })
    .execute();
}

/** An invitation that can still be accepted. */
export async function findOpenInvitation(
  db: Db,
  tokenHash: string,
  now: string,
): Promise<Invitation | undefined> {
  const row = await db
    .selectFrom('invitations')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      workspaceId: row.workspace_id,
      email: row.email,
      role: row.role as Role,
      managerId: row.manager_id,
      invitedBy: row.invited_by,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      acceptedAt: row.accepted_at,
      revokedAt: row.revoked_at,
    }
  );
}

export async function markInvitationAccepted(db: Db, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('invitations')
    .set({ accepted_at: at })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
