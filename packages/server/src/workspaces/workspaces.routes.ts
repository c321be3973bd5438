import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/record-audit.js';
import { principalOf } from '../auth/access.js';
import { timeZoneSchema } from '../auth/auth.schemas.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { problemSchema } from '../http/problem.js';
import {
  findWorkspace,
  updateWorkspace,
  type Workspace,
  workspaceSettingsSchema,
} from './workspaces.repo.js';

const workspaceSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  timeZone: z.string(),
  settings: workspaceSettingsSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const updateBodySchema = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    timeZone: timeZoneSchema.optional(),
    settings: workspaceSettingsSchema.partial().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'give at least one of name, timeZone, settings',
  });

const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema };

export function workspacesRoutes({ db, clock }: { db: Db; clock: Clock }): FastifyPluginAsyncZod {
  async function current(executor: Db, workspaceId: string): Promise<Workspace> {
    const workspace = await findWorkspace(executor, workspaceId);
    if (!workspace) throw new Error(`workspace ${workspaceId} of a live principal is missing`);
    return workspace;
  }

  return async (app) => {
    app.get(
      '/api/v1/workspace',
      {
        config: { access: { permission: 'workspace:read' } },
        schema: {
          tags: ['workspace'],
          summary: 'This workspace and its settings',
          response: { 200: workspaceSchema, ...problems },
        },
      },
      async (request) => current(db, principalOf(request).workspaceId),
    );

    app.patch(
      '/api/v1/workspace',
      {
        config: { access: { permission: 'workspace:manage' } },
        schema: {
          tags: ['workspace'],
          summary: 'Rename, change the time zone or the settings (at-risk threshold, holidays)',
          body: updateBodySchema,
          response: { 200: workspaceSchema, ...problems },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const now = clock();
        return db.transaction().execute(async (trx) => {
          const before = await current(trx, principal.workspaceId);
          const { settings, ...rest } = request.body;
          await updateWorkspace(
            trx,
            before.id,
            { ...rest, ...(settings && { settings: { ...before.settings, ...settings } }) },
            now,
          );
          const after = await findWorkspace(trx, before.id);
          await recordAudit(
            trx,
            before.id,
            now,
            actorOf(principal),
            'workspace.updated',
            { type: 'workspace', id: before.id },
            { before, after },
          );
          return after as Workspace;
        });
      },
    );
  };
}
