import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { HttpProblem, problemSchema } from '../http/problem.js';
import { importAccounts } from './accounts-import.js';

/** A file of 100,000 accounts with a dozen traits fits comfortably. */
export const IMPORT_BODY_LIMIT = 20 * 1024 * 1024;

const rowErrorSchema = z.object({
  row: z.number().int().describe('the row as a spreadsheet shows it: the header is row 1'),
  column: z.string().nullable(),
  message: z.string(),
});
const reportSchema = z.object({
  valid: z.boolean(),
  dryRun: z.boolean(),
  rows: z.number().int(),
  creates: z.number().int(),
  updates: z.number().int(),
  unchanged: z.number().int(),
  errors: z.array(rowErrorSchema),
});

export function accountsImportRoutes({
  db,
  clock,
}: {
  db: Db;
  clock: Clock;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.addContentTypeParser(
      'text/csv',
      { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );

    app.post(
      '/api/v1/accounts/import',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        config: { access: { permission: 'accounts:write' } },
        schema: {
          tags: ['accounts'],
          summary: 'Import accounts from CSV, all or nothing (an existing external id is updated)',
          description:
            'Body: text/csv with a header row. Columns: external_id and name (required), segment, owner_email (a person of the workspace), time_zone (IANA), trait.<name> (numbers and true/false keep their type), contact_email, contact_name. With dryRun=true nothing is written and the preview is returned.',
          consumes: ['text/csv'],
          querystring: z.object({
            dryRun: z
              .enum(['true', 'false'])
              .default('false')
              .transform((v) => v === 'true')
              .describe('check and count only; nothing is written'),
          }),
          body: z.string().describe('the CSV file'),
          response: {
            200: reportSchema,
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            413: problemSchema,
            415: problemSchema,
          },
        },
      },
      async (request) => {
        if (!request.headers['content-type']?.toLowerCase().startsWith('text/csv')) {
          throw new HttpProblem(
            415,
            'unsupported-media-type',
            'Send the file as text/csv',
            'content-type must be text/csv',
          );
        }
        const principal = principalOf(request);
        const { dryRun } = request.query;
        const report = await importAccounts(db, request.body, {
          workspaceId: principal.workspaceId,
          actor: actorOf(principal),
          at: clock(),
          dryRun,
        });
        if (!report.valid && !dryRun) {
          throw new HttpProblem(
            400,
            'import-invalid',
            'The file has errors; nothing was imported',
            `${report.errors.length} error(s): ${report.errors
              .slice(0, 3)
              .map((e) => `row ${e.row}${e.column ? ` ${e.column}` : ''}: ${e.message}`)
              .join('; ')}${report.errors.length > 3 ? '; …' : ''}`,
            {
              errors: report.errors.map((e) => ({
                field: `row ${e.row}${e.column ? `.${e.column}` : ''}`,
                message: e.message,
              })),
              report: { ...report, dryRun },
            },
          );
        }
        return { ...report, dryRun };
      },
    );
  };
}
