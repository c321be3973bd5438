import { type Selectable, sql } from 'kysely';
import { z } from 'zod';
import { fromDbJson, toCount, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { WorkspacesTable } from '../db/schema.js';

export const workspaceSettingsSchema = z.object({
  /** A milestone this many days overdue puts its account at risk. */
  atRiskAfterDays: z.number().int().min(1).default(7),
  /** Non-working days for business-day schedules, `YYYY-MM-DD`. */
  holidays: z.array(z.string().regex(/^\d{4}-\d\d-\d\d$/)).default([]),
  /** A group call naming an account Waymark does not know creates it (else its events wait). */
  createAccountsFromGroups: z.boolean().default(false),
});
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;

export interface Workspace {
  id: string;
  slug: string;
  name: string;
  timeZone: string;
  settings: WorkspaceSettings;
  createdAt: string;
  updatedAt: string;
}

function toWorkspace(row: Selectable<WorkspacesTable>): Workspace {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    timeZone: row.time_zone,
    settings: workspaceSettingsSchema.parse(fromDbJson(row.settings)),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Stores a new workspace, numbered after the last one (its `ref`). Two created at the same
 * instant on PostgreSQL may take the same number: the unique index refuses the second.
 */
export async function insertWorkspace(db: Db, workspace: Workspace): Promise<void> {
  await db
    .insertInto('workspaces')
    .values((eb) => ({
      id: workspace.id,
      ref: eb.selectFrom('workspaces').select(sql<number>`coalesce(max(ref), 0) + 1`.as('next')),
      slug: workspace.slug,
      name: workspace.name,
      time_zone: workspace.timeZone,
      settings: toDbJson(workspace.settings),
      created_at: workspace.createdAt,
      updated_at: workspace.updatedAt,
    }))
    .execute();
}

export async function findWorkspace(db: Db, id: string): Promise<Workspace | undefined> {
  const row = await db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toWorkspace(row);
}

export async function findWorkspaceBySlug(db: Db, slug: string): Promise<Workspace | undefined> {
  const row = await db
    .selectFrom('workspaces')
    .selectAll()
    .where('slug', '=', slug)
    .executeTakeFirst();
  return row && toWorkspace(row);
}

export async function countWorkspaces(db: Db): Promise<number> {
  const row = await db
    .selectFrom('workspaces')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return toCount(row.n);
}

export async function updateWorkspace(
  db: Db,
  id: string,
  changes: Partial<Pick<Workspace, 'name' | 'timeZone' | 'settings'>>,
  at: string,
): Promise<void> {
  await db
    .updateTable('workspaces')
    .set({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.timeZone !== undefined && { time_zone: changes.timeZone }),
      ...(changes.settings !== undefined && { settings: toDbJson(changes.settings) }),
      updated_at: at,
    })
    .where('id', '=', id)
    .execute();
}
