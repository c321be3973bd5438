import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import type { Database } from '../db/database.js';
import { problemSchema } from '../http/problem.js';
import { versionParams } from '../programs/programs.schemas.js';
import { requireProgram, requireVersion } from '../programs/programs.service.js';
import { replayVersion } from './replay.js';

const summarySchema = z
  .object({
    met: z.number().int().describe('enrollments whose events met the criteria'),
    medianDays: z
      .number()
      .int()
      .nullable()
      .describe('median whole days from the enrollment start to the criteria being met'),
    firstAt: z.string().nullable(),
    lastAt: z.string().nullable(),
  })
  .nullable()
  .describe('null where the milestone is not verified automatically in that version');

const replaySchema = z.object({
  programKey: z.string(),
  version: z.number().int(),
  baselineVersion: z
    .number()
    .int()
    .nullable()
    .describe('the latest published version, replayed over the same events'),
  enrollments: z.number().int().describe('enrollments replayed'),
  limited: z.boolean().describe('true when there were more enrollments than the limit'),
  milestones: z.array(
    z.object({
      key: z.string(),
      title: z.string(),
      criteria: z.object({ candidate: z.string().nullable(), published: z.string().nullable() }),
      candidate: summarySchema,
      published: summarySchema,
    }),
  ),
});

/** What-if replay of a version's criteria (a draft, usually) against the published ones. */
export function replayRoutes({
  database,
}: {
  database: Pick<Database, 'db' | 'dialect'>;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/programs/:programKey/versions/:version/replay',
      {
        config: { access: { permission: 'programs:read' } },
        schema: {
          tags: ['programs'],
          summary:
            'What-if: replay the stored events of the program’s enrollments through this version’s criteria and the published version’s',
          description:
            'For each milestone verified automatically: how many enrollments’ events meet its criteria, and how many days after their start, under this version and under the latest published one. Criteria are judged on the product data alone: dependencies and manual verifications are not replayed. The most recent `limit` enrollments are replayed.',
          params: versionParams,
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(10_000).default(1000),
          }),
          response: { 200: replaySchema, 404: problemSchema },
        },
      },
      async (request) => {
        const { workspaceId } = principalOf(request);
        const program = await requireProgram(database.db, workspaceId, request.params.programKey);
        const version = await requireVersion(database.db, program, request.params.version);
        const replay = await replayVersion(
          database.db,
          database.dialect,
          workspaceId,
          program,
          version,
          request.query.limit,
        );
        return { programKey: program.key, version: version.version, ...replay };
      },
    );
  };
}
