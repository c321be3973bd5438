import { SEGMENT_CALL_TYPES, type SegmentCallType } from '@waymark/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findAccount } from '../accounts/accounts.repo.js';
import { principalOf } from '../auth/access.js';
import type { Db } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import { invalidField, notFound, problemSchema } from '../http/problem.js';
import { accountTimeline, type TimelinePosition } from './account-index.repo.js';

const jsonObject = z.record(z.string(), z.unknown());

const timelineEventSchema = z.object({
  messageId: z.string(),
  type: z.string().describe('track, identify, group, page, screen or alias'),
  event: z.string().nullable().describe('the event name of a track call'),
  name: z.string().nullable().describe('the name of a page or screen call'),
  userId: z.string().nullable(),
  anonymousId: z.string().nullable(),
  timestamp: z.string().describe('when it happened, corrected for the sender’s clock'),
  receivedAt: z.string(),
  properties: jsonObject.nullable(),
  traits: jsonObject.nullable(),
  context: jsonObject.nullable(),
});

const timelineSchema = z.object({
  events: z.array(timelineEventSchema),
  nextBefore: z
    .string()
    .nullable()
    .describe('pass as `before` for the next (older) page; null on the last page'),
});

const querySchema = z.object({
  before: z
    .string()
    .min(1)
    .optional()
    .describe(
      'only events before this: an ISO-8601 instant (`2026-03-01T00:00:00Z`), or the `nextBefore` of the previous page',
    ),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  type: z
    .enum(SEGMENT_CALL_TYPES as readonly [SegmentCallType, ...SegmentCallType[]])
    .optional()
    .describe('only calls of this type'),
});

const isInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** The page's end: the last event's time and arrival order, opaque to clients. */
const encodeBefore = (p: Required<TimelinePosition>) =>
  Buffer.from(JSON.stringify({ t: p.timestamp, s: p.seq })).toString('base64url');

function decodeBefore(before: string): TimelinePosition {
  if (isInstant.safeParse(before).success) {
    const at = new Date(before.length === 10 ? `${before}T00:00:00Z` : before);
    if (!Number.isNaN(at.getTime())) return { timestamp: at.toISOString() };
  }
  try {
    const value = JSON.parse(Buffer.from(before, 'base64url').toString()) as {
      t?: unknown;
      s?: unknown;
    };
    if (
      typeof value.t === 'string' &&
      !Number.isNaN(Date.parse(value.t)) &&
      typeof value.s === 'number' &&
      Number.isSafeInteger(value.s)
    )
      return { timestamp: new Date(value.t).toISOString(), seq: value.s };
  } catch {}
  throw invalidField(
    'querystring.before',
    'expected an ISO-8601 instant or the nextBefore of the previous page',
  );
}

function objectIn(payload: Record<string, unknown>, key: string): Record<string, unknown> | null {
  const value = payload[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** The raw events of one account, as they were sent, for support and debugging. */
export function timelineRoutes({
  db,
  dialect,
}: {
  db: Db;
  dialect: Dialect;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/accounts/:accountId/events',
      {
        config: { access: { permission: 'accounts:read' } },
        schema: {
          tags: ['accounts'],
          summary: 'The account’s raw events, newest first',
          description:
            'The calls stored for the account (its own group id, or its users’ last group call), newest first by time, a page at a time. Raw events are kept for WAYMARK_EVENT_RETENTION_DAYS days.',
          params: z.object({ accountId: z.string().min(1) }),
          querystring: querySchema,
          response: {
            200: timelineSchema,
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request) => {
        const { workspaceId } = principalOf(request);
        const { before, limit, type } = request.query;
        const position = before === undefined ? undefined : decodeBefore(before);
        const account = await findAccount(db, workspaceId, request.params.accountId);
        if (!account) throw notFound('account in this workspace');
        // One more than asked for tells whether there is a next page.
        const rows = await accountTimeline(db, dialect, workspaceId, account.externalId, {
          limit: limit + 1,
          ...(position !== undefined && { before: position }),
          ...(type !== undefined && { type }),
        });
        const page = rows.slice(0, limit);
        const last = page.at(-1);
        return {
          events: page.map((row) => {
            const parsed = JSON.parse(row.payload) as unknown;
            const payload = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
              string,
              unknown
            >;
            const name = row.type === 'page' || row.type === 'screen' ? payload.name : null;
            return {
              messageId: row.message_id,
              type: row.type,
              event: row.event,
              name: typeof name === 'string' ? name : null,
              userId: row.user_id,
              anonymousId: row.anonymous_id,
              timestamp: row.timestamp,
              receivedAt: row.received_at,
              properties: objectIn(payload, 'properties'),
              traits: objectIn(payload, 'traits'),
              context: objectIn(payload, 'context'),
            };
          }),
          nextBefore:
            rows.length > limit && last
              ? encodeBefore({ timestamp: last.timestamp, seq: Number(last.seq) })
              : null,
        };
      },
    );
  };
}
