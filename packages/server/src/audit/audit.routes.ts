import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import type { Db } from '../db/database.js';
import { problemSchema } from '../http/problem.js';
import { listAuditEvents } from './audit.repo.js';

const instant = z.iso.datetime({
  offset: false,
  message: 'expected an ISO-8601 UTC instant such as 2026-03-01T00:00:00Z',
});

const querySchema = z
  .object({
    entityType: z.string().min(1).optional(),
    entityId: z.string().min(1).optional(),
    actorType: z.enum(['user', 'contact', 'api_key', 'system']).optional(),
    actorId: z.string().min(1).optional(),
    from: instant.optional().describe('inclusive'),
    to: instant.optional().describe('exclusive'),
    before: z.coerce
      .number()
      .int()
      .positive()
      .optional()
      .describe('continue after this event id (newest first)'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine((q) => q.entityId === undefined || q.entityType !== undefined, {
    message: 'entityId needs entityType',
    path: ['entityId'],
  })
  .refine((q) => q.actorId === undefined || q.actorType !== undefined, {
    message: 'actorId needs actorType',
    path: ['actorId'],
  });

const auditEventSchema = z.object({
  id: z.number(),
  occurredAt: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  action: z.string(),
  entity: z.object({ type: z.string(), id: z.string() }),
  before: z.unknown(),
  after: z.unknown(),
  context: z.record(z.string(), z.unknown()).nullable(),
});

/** Read-only: the trail has no route that edits or deletes, and the database refuses both. */
export function auditRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/audit-events',
      {
        config: { access: { permission: 'audit:read' } },
        schema: {
          tags: ['audit'],
          summary: 'The audit trail, newest first, filtered by entity, actor and time',
          querystring: querySchema,
          response: {
            200: z.object({ events: z.array(auditEventSchema), next: z.number().nullable() }),
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const events = await listAuditEvents(db, principalOf(request).workspaceId, {
          ...(q.entityType !== undefined && {
            entity: { type: q.entityType, ...(q.entityId !== undefined && { id: q.entityId }) },
          }),
          ...(q.actorType !== undefined && {
            actor: { type: q.actorType, ...(q.actorId !== undefined && { id: q.actorId }) },
          }),
          ...(q.from !== undefined && { from: new Date(q.from).toISOString() }),
          ...(q.to !== undefined && { to: new Date(q.to).toISOString() }),
          ...(q.before !== undefined && { before: q.before }),
          limit: q.limit,
        });
        const last = events[events.length - 1];
        return {
          events: events.map(({ workspaceId: _w, ...e }) => e),
          next: events.length === q.limit && last ? last.id : null,
        };
      },
    );
  };
}
