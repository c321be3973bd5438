import type { ProgramDefinition } from '@waymark/core';
import type { Selectable } from 'kysely';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { ProgramsTable, ProgramVersionsTable } from '../db/schema.js';

export interface Program {
  id: string;
  workspaceId: string;
  key: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** When the program was archived; null while it is in use. */
  archivedAt: string | null;
}

/** A program as first saved: never archived yet. */
export type NewProgram = Omit<Program, 'archivedAt'>;

export interface ProgramVersion {
  id: string;
  workspaceId: string;
  programId: string;
  version: number;
  status: 'draft' | 'published';
  definition: ProgramDefinition;
  /** Hash of the canonical definition: re-applying the same file changes nothing. */
  definitionHash: string;
  publishedAt: string | null;
  createdAt: string;
}

const toProgram = (row: Selectable<ProgramsTable>): Program => ({
  id: row.id,
  workspaceId: row.workspace_id,
  key: row.key,
  name: row.name,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  archivedAt: row.archived_at,
});

const toVersion = (row: Selectable<ProgramVersionsTable>): ProgramVersion => ({
  id: row.id,
  workspaceId: row.workspace_id,
  programId: row.program_id,
  version: row.version,
  status: row.status,
  definition: fromDbJson<ProgramDefinition>(row.definition),
  definitionHash: row.definition_hash,
  publishedAt: row.published_at,
  createdAt: row.created_at,
});

/** Inserts a new program; a second one with the same key fails the unique constraint. */
export async function insertProgram(db: Db, program: NewProgram): Promise<void> {
  await db
    .insertInto('programs')
    .values({
      id: program.id,
      workspace_id: program.workspaceId,
      key: program.key,
      name: program.name,
      created_at: program.createdAt,
      updated_at: program.updatedAt,
    })
    .execute();
}

export async function findProgramByKey(
  db: Db,
  workspaceId: string,
  key: string,
): Promise<Program | undefined> {
  const row = await db
    .selectFrom('programs')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return row && toProgram(row);
}

export async function insertProgramVersion(db: Db, version: ProgramVersion): Promise<void> {
  await db
    .insertInto('program_versions')
    .values({
      id: version.id,
      workspace_id: version.workspaceId,
      program_id: version.programId,
      version: version.version,
      status: version.status,
      definition: toDbJson(version.definition),
      definition_hash: version.definitionHash,
      published_at: version.publishedAt,
      created_at: version.createdAt,
    })
    .execute();
}

export async function findProgramVersion(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<ProgramVersion | undefined> {
  const row = await db
    .selectFrom('program_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toVersion(row);
}

export async function listProgramVersions(
  db: Db,
  workspaceId: string,
  programId: string,
): Promise<ProgramVersion[]> {
  const rows = await db
    .selectFrom('program_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('program_id', '=', programId)
    .orderBy('version')
    .execute();
  return rows.map(toVersion);
}

/**
 * Publishes a draft. A published version is immutable: only a row still in
 * `draft` is touched, so publishing twice, or editing after, changes nothing.
 */
export async function publishProgramVersion(
  db: Db,
  workspaceId: string,
  id: string,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('program_versions')
    .set({ status: 'published', published_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Which programs a listing shows: those in use (the default), the archived ones, or both. */
export type ArchivedFilter = 'exclude' | 'only' | 'include';

export async function listPrograms(
  db: Db,
  workspaceId: string,
  archived: ArchivedFilter = 'exclude',
): Promise<Program[]> {
  let query = db.selectFrom('programs').selectAll().where('workspace_id', '=', workspaceId);
  if (archived === 'exclude') query = query.where('archived_at', 'is', null);
  if (archived === 'only') query = query.where('archived_at', 'is not', null);
  const rows = await query.orderBy('key').execute();
  return rows.map(toProgram);
}

/**
 * Archives (`at`) or unarchives (`null`) a program. Only a row not already in that state is
 * touched, so concurrent calls change it once; false when nothing changed.
 */
export async function setProgramArchived(
  db: Db,
  workspaceId: string,
  id: string,
  at: string | null,
  updatedAt: string,
): Promise<boolean> {
  const result = await db
    .updateTable('programs')
    .set({ archived_at: at, updated_at: updatedAt })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('archived_at', at === null ? 'is not' : 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Every version of every program of the workspace, without definitions: for listings. */
export async function listVersionSummaries(
  db: Db,
  workspaceId: string,
): Promise<Pick<ProgramVersion, 'programId' | 'version' | 'status' | 'publishedAt'>[]> {
  const rows = await db
    .selectFrom('program_versions')
    .select(['program_id', 'version', 'status', 'published_at'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('version')
    .execute();
  return rows.map((row) => ({
    programId: row.program_id,
    version: row.version,
    status: row.status,
    publishedAt: row.published_at,
  }));
}

export async function findVersionByNumber(
  db: Db,
  workspaceId: string,
  programId: string,
  version: number,
): Promise<ProgramVersion | undefined> {
  const row = await db
    .selectFrom('program_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('program_id', '=', programId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && toVersion(row);
}

export async function findLatestVersion(
  db: Db,
  workspaceId: string,
  programId: string,
  options: { publishedOnly?: boolean } = {},
): Promise<ProgramVersion | undefined> {
  let query = db
    .selectFrom('program_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('program_id', '=', programId);
  if (options.publishedOnly) query = query.where('status', '=', 'published');
  const row = await query.orderBy('version', 'desc').limit(1).executeTakeFirst();
  return row && toVersion(row);
}

/** Replaces a draft's definition. Only a row still in `draft` is touched. */
export async function updateDraftDefinition(
  db: Db,
  workspaceId: string,
  id: string,
  definition: ProgramDefinition,
  definitionHash: string,
): Promise<boolean> {
  const result = await db
    .updateTable('program_versions')
    .set({ definition: toDbJson(definition), definition_hash: definitionHash })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function renameProgram(
  db: Db,
  workspaceId: string,
  id: string,
  name: string,
  at: string,
): Promise<void> {
  await db
    .updateTable('programs')
    .set({ name, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .execute();
}
