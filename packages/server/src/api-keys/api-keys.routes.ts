import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../audit/record-audit.js';
import { principalOf } from '../auth/access.js';
import { roleSchema } from '../auth/auth.schemas.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import { displayPrefix, hashToken, identitySecretFor, newToken } from '../auth/tokens.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { notFound, problemSchema } from '../http/problem.js';
import {
  type ApiKey,
  findApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
} from './api-keys.repo.js';

const apiKeySchema = z.object({
  id: z.string(),
  kind: z.enum(['secret', 'write', 'publishable']),
  name: z.string(),
  role: roleSchema.nullable(),
  prefix: z.string().describe('the first characters of the key, to recognise it'),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const createBodySchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z
      .literal('secret')
      .describe('for the REST API, as "Authorization: Bearer <key>"; acts with its role'),
    name: z.string().trim().min(1).max(120),
    role: roleSchema,
  }),
  z.object({
    kind: z
      .literal('write')
      .describe('can only send events to the Segment-compatible /v1 endpoints'),
    name: z.string().trim().min(1).max(120),
  }),
  z.object({
    kind: z.literal('publishable').describe('read-only, for the in-app checklist in browsers'),
    name: z.string().trim().min(1).max(120),
  }),
]);

const present = ({ workspaceId: _w, createdBy: _c, ...key }: ApiKey) => key;
const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

export function apiKeysRoutes({
  db,
  clock,
  serverSecret,
  onRevoked,
}: {
  db: Db;
  clock: Clock;
  serverSecret: string;
  /** Told of each revoked key, so caches of accepted keys drop it at once. */
  onRevoked: (keyId: string) => void;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/api-keys',
      {
        config: { access: { permission: 'api_keys:manage' } },
        schema: {
          tags: ['access'],
          summary: 'The API keys of this workspace (never their secrets)',
          response: { 200: z.object({ apiKeys: z.array(apiKeySchema) }), ...problems },
        },
      },
      async (request) => ({
        apiKeys: (await listApiKeys(db, principalOf(request).workspaceId)).map(present),
      }),
    );

    app.post(
      '/api/v1/api-keys',
      {
        config: { access: { permission: 'api_keys:manage' } },
        schema: {
          tags: ['access'],
          summary: 'Create an API key; its secret is in this response only',
          body: createBodySchema,
          response: {
            201: apiKeySchema.extend({
              token: z.string().describe('shown once; store it now'),
              identitySecret: z
                .string()
                .optional()
                .describe(
                  'publishable keys: the secret your backend signs "<account>:<user>" with; shown once',
                ),
            }),
            ...problems,
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const actor = actorOf(principal);
        const now = clock();
        const token = newToken(request.body.kind);
        const key: ApiKey = {
          id: newId(),
          workspaceId: principal.workspaceId,
          kind: request.body.kind,
          name: request.body.name,
          role: request.body.kind === 'secret' ? request.body.role : null,
          prefix: displayPrefix(token),
          createdBy: principal.kind === 'user' ? principal.userId : null,
          createdAt: now,
          lastUsedAt: null,
          revokedAt: null,
        };
        await db.transaction().execute(async (trx) => {
          await insertApiKey(trx, key, hashToken(token));
          await recordAudit(
            trx,
            key.workspaceId,
            now,
            actor,
            'api_key.created',
            { type: 'api_key', id: key.id },
            { after: present(key) },
          );
        });
        return reply.status(201).send({
          ...present(key),
          token,
          ...(key.kind === 'publishable' && {
            identitySecret: identitySecretFor(serverSecret, key.id),
          }),
        });
      },
    );

    app.delete(
      '/api/v1/api-keys/:keyId',
      {
        config: { access: { permission: 'api_keys:manage' } },
        schema: {
          tags: ['access'],
          summary: 'Revoke an API key at once',
          params: z.object({ keyId: z.string().min(1) }),
          response: { 204: z.null(), ...problems },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const now = clock();
        const before = await findApiKey(db, principal.workspaceId, request.params.keyId);
        if (!before) throw notFound('API key in this workspace');
        await db.transaction().execute(async (trx) => {
          if (await revokeApiKey(trx, principal.workspaceId, before.id, now)) {
            await recordAudit(
              trx,
              principal.workspaceId,
              now,
              actorOf(principal),
              'api_key.revoked',
              { type: 'api_key', id: before.id },
              {
                before: present(before),
              },
            );
          }
        });
        onRevoked(before.id);
        return reply.status(204).send(null);
      },
    );
  };
}
