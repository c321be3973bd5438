import { checklistView, milestoneSchedule } from '@waymark/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findAccountByExternalId } from '../accounts/accounts.repo.js';
import { principalOf } from '../auth/access.js';
import { identityHash, identitySecretFor, safeEqual } from '../auth/tokens.js';
import type { Db } from '../db/database.js';
import { listEnrollmentsForAccount } from '../enrollments/enrollments.repo.js';
import { listProgress } from '../enrollments/progress.repo.js';
import { HttpProblem, notFound, problemSchema } from '../http/problem.js';
import { findProgramVersion } from '../programs/programs.repo.js';
import { findWorkspace } from '../workspaces/workspaces.repo.js';

const querySchema = z.object({
  key: z
    .string()
    .min(1)
    .optional()
    .describe('the publishable key (wm_pk_…); or send it as a bearer token'),
  account: z.string().min(1).describe("the account's external id (Segment groupId)"),
  user: z.string().min(1).describe('the signed-in end user’s id in your product'),
  userHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'expected 64 hex characters')
    .describe(
      'hex HMAC-SHA256 of "<account>:<user>" with the key’s identity secret, computed by your backend',
    ),
});

const itemSchema = z.object({
  key: z.string(),
  title: z.string(),
  phase: z.string(),
  status: z.enum(['locked', 'open', 'completed', 'waived']),
  dueDate: z.string(),
  completedAt: z.string().nullable(),
  unlocksFeature: z.string().nullable(),
  inAppMessage: z.string().nullable(),
});

const checklistSchema = z.object({
  account: z.object({ externalId: z.string(), name: z.string() }),
  enrollments: z.array(
    z.object({
      id: z.string(),
      program: z.object({ key: z.string(), name: z.string(), version: z.number() }),
      items: z.array(itemSchema),
      done: z.number(),
      total: z.number(),
      next: z.string().nullable(),
    }),
  ),
});

export function checklistRoutes({
  db,
  serverSecret,
}: {
  db: Db;
  serverSecret: string;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/checklist',
      {
        config: { access: 'checklist' },
        schema: {
          tags: ['checklist'],
          summary:
            "An account's onboarding checklist for the in-app widget (publishable key, verified identity)",
          querystring: querySchema,
          response: {
            200: checklistSchema,
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        // Read-only and keyed by a public key, so any page may embed it; no cookies are involved.
        reply.header('access-control-allow-origin', '*');
        const principal = principalOf(request);
        if (principal.kind !== 'api_key')
          throw new Error('checklist routes admit publishable keys only');
        const { account: externalId, user, userHash } = request.query;
        const expected = identityHash(
          identitySecretFor(serverSecret, principal.keyId),
          externalId,
          user,
        );
        if (!safeEqual(userHash, expected)) {
          throw new HttpProblem(
            401,
            'identity-not-verified',
            'Identity not verified',
            'userHash does not match account and user for this key',
          );
        }
        const [account, workspace] = await Promise.all([
          findAccountByExternalId(db, principal.workspaceId, externalId),
          findWorkspace(db, principal.workspaceId),
        ]);
        if (!account || !workspace) throw notFound('account');
        const timeZone = account.timeZone ?? workspace.timeZone;
        const enrollments = (
          await listEnrollmentsForAccount(db, principal.workspaceId, account.id)
        ).filter((e) => e.status === 'active');
        return {
          account: { externalId: account.externalId, name: account.name },
          enrollments: await Promise.all(
            enrollments.map(async (enrollment) => {
              const version = await findProgramVersion(
                db,
                principal.workspaceId,
                enrollment.programVersionId,
              );
              if (!version)
                throw new Error(`enrollment ${enrollment.id} without its program version`);
              const program = version.definition;
              const schedule = milestoneSchedule(
                program,
                { startedAt: enrollment.startedAt, timeZone },
                { holidays: workspace.settings.holidays },
              );
              const view = checklistView(
                program,
                await listProgress(db, principal.workspaceId, enrollment.id),
                schedule,
              );
              return {
                id: enrollment.id,
                program: { key: program.key, name: program.name, version: version.version },
                ...view,
              };
            }),
          ),
        };
      },
    );
  };
}
