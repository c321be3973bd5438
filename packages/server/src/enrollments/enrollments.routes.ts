import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { problemSchema } from '../http/problem.js';
import {
  accountProgress,
  changeMilestone,
  enrollAccount,
  type MilestoneAction,
} from './enrollments.service.js';

const actorSchema = z.object({
  type: z.enum(['user', 'contact', 'api_key', 'system']),
  id: z.string().nullable(),
});
const statusSchema = z.enum(['locked', 'open', 'completed', 'waived']);
const scheduleStatusSchema = z.object({
  status: z.enum(['on_track', 'ahead', 'behind', 'at_risk']),
  expectedByNow: z.number().int(),
  doneOfExpected: z.number().int(),
  doneTotal: z.number().int(),
  ratio: z.number().nullable(),
  mostOverdueDays: z.number().int(),
});
const milestoneSchema = z.object({
  key: z.string(),
  title: z.string(),
  phase: z.string(),
  dueDate: z.string().describe('the last local day on which completion is on time'),
  dueAt: z.string().describe('when the due date ends in the account’s zone (exclusive)'),
  status: statusSchema,
  openedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  source: z.enum(['automatic', 'csm', 'client']).nullable(),
  evidence: z.record(z.string(), z.unknown()).nullable(),
  verifiedBy: actorSchema.nullable(),
  waiver: z
    .object({ at: z.string(), by: actorSchema.nullable(), reason: z.string().nullable() })
    .nullable(),
  overdueDays: z.number().int(),
  atRisk: z.boolean(),
  completedOnTime: z.boolean().nullable(),
});
const enrollmentSchema = z.object({
  id: z.string(),
  accountId: z.string(),
  program: z.object({
    key: z.string(),
    name: z.string(),
    version: z.number().int(),
    versionId: z.string(),
  }),
  startedAt: z.string(),
  goLiveDate: z.string().nullable(),
  ownerUserId: z.string().nullable(),
  variant: z.string().nullable(),
  status: z.enum(['active', 'completed', 'cancelled']),
  timeZone: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  milestones: z.array(milestoneSchema),
  scheduleStatus: scheduleStatusSchema,
});
const progressSchema = z.object({
  account: z.object({
    id: z.string(),
    externalId: z.string(),
    name: z.string(),
    segment: z.string().nullable(),
    timeZone: z.string().describe('the account’s zone, or the workspace’s'),
  }),
  asOf: z.string(),
  scheduleStatus: scheduleStatusSchema
    .nullable()
    .describe('the worst status over the active enrollments'),
  enrollments: z.array(enrollmentSchema),
});
const changeSchema = z.object({
  type: z.enum([
    'milestone.opened',
    'milestone.completed',
    'milestone.waived',
    'milestone.reopened',
    'milestone.locked',
  ]),
  milestoneKey: z.string(),
  at: z.string(),
  reason: z.string().optional(),
  from: statusSchema,
  to: statusSchema,
});
const transitionResponse = z.object({
  changes: z.array(changeSchema),
  enrollment: enrollmentSchema,
});

const instant = z.iso
  .datetime({ offset: true, message: 'expected an ISO-8601 instant such as 2026-03-01T09:00:00Z' })
  .transform((value) => new Date(value).toISOString());
const enrollBody = z.object({
  programKey: z.string().min(1),
  version: z.number().int().min(1).optional().describe('default: the latest published version'),
  startedAt: instant
    .optional()
    .describe('day 0 of the schedule (contract or kickoff); default now'),
  goLiveDate: z.iso.date().nullable().optional().describe('the agreed go-live date, YYYY-MM-DD'),
  ownerUserId: z.string().min(1).nullable().optional(),
});
const reason = z.string().trim().min(1, 'give a reason').max(2000);
const completeBody = z.object({
  evidence: z
    .object({
      note: z.string().trim().min(1).max(5000).optional(),
      url: z.url().max(2000).optional(),
    })
    .catchall(z.unknown())
    .refine((e) => Object.keys(e).length > 0, { message: 'give evidence: a note, a url …' }),
  source: z.enum(['csm']).default('csm'),
});
const waiveBody = z.object({ reason });
const reopenBody = z.object({
  reason,
  cascade: z.boolean().default(false).describe('also reopen done milestones that depend on it'),
});

const accountParams = z.object({ accountId: z.string().min(1) });
const milestoneParams = z.object({
  enrollmentId: z.string().min(1),
  milestoneKey: z.string().min(1),
});
const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
};

export function enrollmentsRoutes({ db, clock }: { db: Db; clock: Clock }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/accounts/:accountId/enrollments',
      {
        config: { access: { permission: 'accounts:write' } },
        schema: {
          tags: ['enrollments'],
          summary: 'Enroll an account in a published program version',
          params: accountParams,
          body: enrollBody,
          response: { 201: enrollmentSchema, ...problems },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const now = clock();
        const { startedAt, ...rest } = request.body;
        const view = await enrollAccount(
          db,
          principal.workspaceId,
          request.params.accountId,
          { ...rest, startedAt: startedAt ?? now },
          actorOf(principal),
          now,
        );
        return reply.status(201).send(view);
      },
    );

    app.get(
      '/api/v1/accounts/:accountId/progress',
      {
        config: { access: { permission: 'accounts:read' } },
        schema: {
          tags: ['enrollments'],
          summary: "An account's milestones, timing and schedule status per active enrollment",
          params: accountParams,
          response: { 200: progressSchema, ...problems },
        },
      },
      async (request) =>
        accountProgress(db, principalOf(request).workspaceId, request.params.accountId, clock()),
    );

    const transition = (
      verb: 'complete' | 'waive' | 'reopen',
      summary: string,
      permission: 'progress:complete' | 'progress:waive' | 'progress:reopen',
      body: z.ZodType,
      toAction: (body: never) => MilestoneAction,
    ) =>
      app.post(
        `/api/v1/enrollments/:enrollmentId/milestones/:milestoneKey/${verb}`,
        {
          config: { access: { permission } },
          schema: {
            tags: ['enrollments'],
            summary,
            params: milestoneParams,
            body,
            response: { 200: transitionResponse, ...problems },
          },
        },
        async (request) => {
          const principal = principalOf(request);
          const { enrollmentId, milestoneKey } = request.params;
          const { changes, enrollment } = await changeMilestone(
            db,
            principal.workspaceId,
            enrollmentId,
            milestoneKey,
            toAction(request.body as never),
            actorOf(principal),
            clock(),
          );
          return {
            changes: changes.map((c) => ({
              type: c.type,
              milestoneKey: c.milestoneKey,
              at: c.at,
              ...(c.reason !== undefined && { reason: c.reason }),
              from: c.before.status,
              to: c.after.status,
            })),
            enrollment,
          };
        },
      );

    transition(
      'complete',
      'Complete an open milestone with evidence, as the CSM (409 unless its verification includes csm); dependents whose dependencies are done open',
      'progress:complete',
      completeBody,
      (b: z.infer<typeof completeBody>) => ({
        type: 'complete',
        evidence: b.evidence,
        source: b.source,
      }),
    );
    transition(
      'waive',
      'Waive a milestone with a reason; it satisfies dependents like a completion',
      'progress:waive',
      waiveBody,
      (b: z.infer<typeof waiveBody>) => ({ type: 'waive', reason: b.reason }),
    );
    transition(
      'reopen',
      'Reopen a completed or waived milestone with a reason (cascade reopens done dependents)',
      'progress:reopen',
      reopenBody,
      (b: z.infer<typeof reopenBody>) => ({
        type: 'reopen',
        reason: b.reason,
        cascade: b.cascade,
      }),
    );
  };
}
