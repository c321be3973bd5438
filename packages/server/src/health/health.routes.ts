import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { problemSchema, sendProblem } from '../http/problem.js';
import { WAYMARK_VERSION } from '../version.js';

export interface HealthDeps {
  database: Pick<Database, 'db' | 'dialect'>;
}

/** Liveness answers without touching anything; readiness proves the database answers. */
export function healthRoutes({ database }: HealthDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['operations'],
          summary: 'Liveness: the process is up',
          response: { 200: z.object({ status: z.literal('ok'), version: z.string() }) },
        },
      },
      async () => ({ status: 'ok' as const, version: WAYMARK_VERSION }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['operations'],
          summary: 'Readiness: the database answers',
          response: {
            200: z.object({
              status: z.literal('ready'),
              database: z.object({ engine: z.enum(['sqlite', 'postgres']), latencyMs: z.number() }),
            }),
            503: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const started = performance.now();
        try {
          await sql`select 1`.execute(database.db);
        } catch (error) {
          request.log.warn({ err: error }, 'readiness check failed');
          return sendProblem(reply, {
            type: 'urn:waymark:problem:not-ready',
            title: 'Not ready',
            status: 503,
            detail: `the ${database.dialect.engine} database did not answer`,
            instance: request.url,
          });
        }
        return {
          status: 'ready' as const,
          database: {
            engine: database.dialect.engine,
            latencyMs: Math.round((performance.now() - started) * 100) / 100,
          },
        };
      },
    );
  };
}
