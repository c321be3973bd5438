import type { Role } from '@waymark/core';
import type { Selectable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ApiKeysTable } from '../db/schema.js';

export type ApiKeyKind = 'secret' | 'write' | 'publishable';

export interface ApiKey {
  id: string;
  workspaceId: string;
  kind: ApiKeyKind;
  name: string;
  /** The role a secret key acts with; write and publishable keys have none. */
  role: Role | null;
  /** The first characters of the token, to tell keys apart. The token itself is never stored. */
  prefix: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const toApiKey = (row: Selectable<ApiKeysTable>): ApiKey => ({
  id: row.id,
  workspaceId: row.workspace_id,
  kind: row.kind,
  name: row.name,
  role: row.role as Role | null,
  prefix: row.prefix,
  createdBy: row.created_by,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

export async function insertApiKey(db: Db, key: ApiKey, tokenHash: string): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      workspace_id: key.workspaceId,
      kind: key.kind,
      name: key.name,
      role: key.role,
      prefix: key.prefix,
      token_hash: tokenHash,
      created_by: key.createdBy,
      created_at: key.createdAt,
      last_used_at: key.lastUsedAt,
      revoked_at: key.revokedAt,
    })
    .execute();
}

/** The key a token belongs to, revoked or not: the caller says which answer to give. */
export async function findApiKeyByTokenHash(
  db: Db,
  tokenHash: string,
): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && toApiKey(row);
}

export async function findApiKey(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toApiKey(row);
}

export async function listApiKeys(db: Db, workspaceId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toApiKey);
}

export async function revokeApiKey(
  db: Db,
  workspaceId: string,
  id: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Last use is kept to the minute: one write a minute per key at most. */
export async function touchApiKey(db: Db, id: string, at: string): Promise<void> {
  const minuteAgo = new Date(Date.parse(at) - 60_000).toISOString();
  await db
    .updateTable('api_keys')
    .set({ last_used_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', minuteAgo)]))
    .execute();
}
