import type { Role } from '@waymark/core';
import type { Selectable } from 'kysely';
import { fromDbFlag, toDbFlag } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { UsersTable } from '../db/schema.js';

export interface User {
  id: string;
  workspaceId: string;
  email: string;
  name: string;
  role: Role;
  managerId: string | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    managerId: row.manager_id,
    active: fromDbFlag(row.active),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertUser(db: Db, user: User): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: user.id,
      workspace_id: user.workspaceId,
      email: user.email.toLowerCase(),
      name: user.name,
      role: user.role,
      manager_id: user.managerId,
      active: toDbFlag(user.active),
      created_at: user.createdAt,
      updated_at: user.updatedAt,
    })
    .execute();
}

export async function findUser(db: Db, workspaceId: string, id: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toUser(row);
}

export async function listUsers(db: Db, workspaceId: string): Promise<User[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('email')
    .execute();
  return rows.map(toUser);
}

/** Deactivating keeps the person and everything they did; they only stop signing in. */
export async function setUserActive(
  db: Db,
  workspaceId: string,
  id: string,
  active: boolean,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ active: toDbFlag(active), updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The person an email signs in as, with the password hash kept apart from `User`. */
export async function findCredentialsByEmail(
  db: Db,
  email: string,
): Promise<{ user: User; passwordHash: string | null } | undefined> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', email.toLowerCase())
    .executeTakeFirst();
  return row && { user: toUser(row), passwordHash: row.password_hash };
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string, at: string) {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: at })
    .where('id', '=', userId)
    .execute();
}

export async function recordSignIn(db: Db, userId: string, at: string): Promise<void> {
  await db.updateTable('users').set({ last_login_at: at }).where('id', '=', userId).execute();
}

export async function updateUser(
  db: Db,
  workspaceId: string,
  id: string,
  changes: Partial<Pick<User, 'role' | 'managerId' | 'active' | 'name'>>,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({
      ...(changes.role !== undefined && { role: changes.role }),
      ...(changes.managerId !== undefined && { manager_id: changes.managerId }),
      ...(changes.active !== undefined && { active: toDbFlag(changes.active) }),
      ...(changes.name !== undefined && { name: changes.name }),
      updated_at: at,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
