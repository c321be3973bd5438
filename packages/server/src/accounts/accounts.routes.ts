import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/record-audit.js';
import { principalOf } from '../auth/access.js';
import { timeZoneSchema } from '../auth/auth.schemas.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { HttpProblem, invalidField, notFound, problemSchema } from '../http/problem.js';
import { findUser } from '../users/users.repo.js';
import {
  type Account,
  findAccount,
  findAccountByExternalId,
  insertAccount,
  listAccounts,
  updateAccount,
} from './accounts.repo.js';

const accountSchema = z.object({
  id: z.string(),
  externalId: z.string().describe("the customer's id in your product: Segment's groupId"),
  name: z.string(),
  segment: z.string().nullable(),
  ownerUserId: z.string().nullable(),
  timeZone: z.string().nullable(),
  traits: z.record(z.string(), z.unknown()),
  outcome: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const writableFields = {
  name: z.string().trim().min(1).max(200),
  segment: z.string().trim().min(1).max(80).nullable(),
  ownerUserId: z.string().nullable(),
  timeZone: timeZoneSchema.nullable(),
  traits: z.record(z.string(), z.unknown()),
  outcome: z.record(z.string(), z.unknown()).nullable(),
};

const createBodySchema = z.object({
  externalId: z.string().trim().min(1).max(200),
  name: writableFields.name,
  segment: writableFields.segment.default(null),
  ownerUserId: writableFields.ownerUserId.default(null),
  timeZone: writableFields.timeZone.default(null),
  traits: writableFields.traits.default({}),
  outcome: writableFields.outcome.default(null),
});
const updateBodySchema = z
  .object({
    name: writableFields.name.optional(),
    segment: writableFields.segment.optional(),
    ownerUserId: writableFields.ownerUserId.optional(),
    timeZone: writableFields.timeZone.optional(),
    traits: writableFields.traits.optional(),
    outcome: writableFields.outcome.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });

const params = z.object({ accountId: z.string().min(1) });
const listQuery = z.object({
  segment: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional().describe('the nextCursor of the previous page'),
});
const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
};
const present = ({ workspaceId: _w, ...account }: Account) => account;
const accountNotFound = () => notFound('account in this workspace');

const encodeCursor = (a: Account) =>
  Buffer.from(JSON.stringify({ name: a.name, id: a.id })).toString('base64url');
function decodeCursor(cursor: string): { name: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as {
      name?: unknown;
      id?: unknown;
    };
    if (typeof value.name === 'string' && typeof value.id === 'string')
      return { name: value.name, id: value.id };
  } catch {}
  throw invalidField('querystring.cursor', 'not a cursor from this API');
}

export function accountsRoutes({ db, clock }: { db: Db; clock: Clock }): FastifyPluginAsyncZod {
  async function assertOwner(workspaceId: string, ownerUserId: string | null | undefined) {
    if (ownerUserId && !(await findUser(db, workspaceId, ownerUserId))) {
      throw invalidField('body.ownerUserId', 'no such person in this workspace');
    }
  }

  return async (app) => {
    app.get(
      '/api/v1/accounts',
      {
        config: { access: { permission: 'accounts:read' } },
        schema: {
          tags: ['accounts'],
          summary: 'Accounts, by name, a page at a time',
          querystring: listQuery,
          response: {
            200: z.object({ accounts: z.array(accountSchema), nextCursor: z.string().nullable() }),
            ...problems,
          },
        },
      },
      async (request) => {
        const { segment, limit, cursor } = request.query;
        const accounts = await listAccounts(db, principalOf(request).workspaceId, {
          limit,
          ...(segment !== undefined && { segment }),
          ...(cursor !== undefined && { after: decodeCursor(cursor) }),
        });
        const last = accounts[accounts.length - 1];
        return {
          accounts: accounts.map(present),
          nextCursor: accounts.length === limit && last ? encodeCursor(last) : null,
        };
      },
    );

    app.post(
      '/api/v1/accounts',
      {
        config: { access: { permission: 'accounts:write' } },
        schema: {
          tags: ['accounts'],
          summary: 'Create an account',
          body: createBodySchema,
          response: { 201: accountSchema, ...problems },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const now = clock();
        await assertOwner(principal.workspaceId, request.body.ownerUserId);
        const account: Account = {
          id: newId(),
          workspaceId: principal.workspaceId,
          ...request.body,
          createdAt: now,
          updatedAt: now,
        };
        await db.transaction().execute(async (trx) => {
          if (await findAccountByExternalId(trx, principal.workspaceId, account.externalId)) {
            throw new HttpProblem(
              409,
              'conflict',
              'Account exists',
              `an account with externalId ${account.externalId} exists`,
            );
          }
          await insertAccount(trx, account);
          await recordAudit(
            trx,
            account.workspaceId,
            now,
            actorOf(principal),
            'account.created',
            { type: 'account', id: account.id },
            { after: present(account) },
          );
        });
        return reply.status(201).send(present(account));
      },
    );

    app.get(
      '/api/v1/accounts/:accountId',
      {
        config: { access: { permission: 'accounts:read' } },
        schema: {
          tags: ['accounts'],
          summary: 'One account',
          params,
          response: { 200: accountSchema, ...problems },
        },
      },
      async (request) => {
        const account = await findAccount(
          db,
          principalOf(request).workspaceId,
          request.params.accountId,
        );
        if (!account) throw accountNotFound();
        return present(account);
      },
    );

    app.patch(
      '/api/v1/accounts/:accountId',
      {
        config: { access: { permission: 'accounts:write' } },
        schema: {
          tags: ['accounts'],
          summary: 'Change an account',
          params,
          body: updateBodySchema,
          response: { 200: accountSchema, ...problems },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const now = clock();
        await assertOwner(principal.workspaceId, request.body.ownerUserId);
        return db.transaction().execute(async (trx) => {
          const before = await findAccount(trx, principal.workspaceId, request.params.accountId);
          if (!before) throw accountNotFound();
          await updateAccount(trx, principal.workspaceId, before.id, request.body, now);
          const after = await findAccount(trx, principal.workspaceId, before.id);
          if (!after) throw accountNotFound();
          await recordAudit(
            trx,
            principal.workspaceId,
            now,
            actorOf(principal),
            'account.updated',
            { type: 'account', id: before.id },
            {
              before: present(before),
              after: present(after),
            },
          );
          return present(after);
        });
      },
    );
  };
}
