import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  type MessageFault,
  parseSegmentBatch,
  parseSegmentCall,
  SEGMENT_CALL_TYPES,
  SEGMENT_LIMITS,
  writeKeyInBody,
} from '@waymark/core';
import { errorCodes, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../auth/clock.js';
import { HttpProblem } from '../http/problem.js';
import type { Ingestion } from './ingest.js';
import type { WriteKeyChecker } from './write-keys.js';

export interface IngestRoutesOptions {
  ingestion: Ingestion;
  writeKeys: WriteKeyChecker;
  clock: Clock;
  /** Requests per second per write key (or per address without one). */
  rateLimit: number;
}

const { FST_ERR_CTP_BODY_TOO_LARGE } = errorCodes;

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, content-encoding',
  'access-control-max-age': '86400',
};

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', 'Write key not accepted', detail);

function invalidCalls(faults: readonly MessageFault[]): HttpProblem {
  const shown = faults.slice(0, 100);
  return new HttpProblem(
    400,
    'invalid-events',
    'Invalid events',
    `${faults.length} fault${faults.length === 1 ? '' : 's'}, nothing of this request was stored: ${shown
      .slice(0, 3)
      .map((f) => `${f.field} ${f.message}`)
      .join('; ')}${faults.length > 3 ? '; …' : ''}`,
    { errors: shown.map(({ field, message, index }) => ({ field, message, index })) },
  );
}

/** The write key: HTTP Basic user (Segment's way), or `writeKey` in the body. */
function writeKeyOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const [scheme, encoded] = header.split(' ', 2);
    if (scheme?.toLowerCase() === 'basic' && encoded) {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const user = decoded.slice(0, decoded.includes(':') ? decoded.indexOf(':') : undefined);
      if (user !== '') return user;
    }
    throw unauthorized(
      'send the write key as the HTTP Basic user name: Authorization: Basic base64("<write key>:")',
    );
  }
  return writeKeyInBody(request.body);
}

/**
 * Segment's tracking API: `/v1/track`, `/v1/identify`, `/v1/group`, `/v1/page`, `/v1/screen`,
 * `/v1/alias` and `/v1/batch` (also `/v1/import`), so Segment's and RudderStack's libraries
 * send here unchanged. A request is all or nothing: every call valid and stored (2xx) or none.
 */
export function ingestRoutes(options: IngestRoutesOptions): FastifyPluginAsync {
  return fp(
    async (parent) => {
      await parent.register(async (app) => {
        const { ingestion, writeKeys, clock } = options;
        // Each body's text as received: every call is kept as its part of it.
        const sentTexts = new WeakMap<FastifyRequest, string>();

        // Every body is read as JSON, whatever its declared type: browser libraries send
        // text/plain to skip a CORS preflight, and gzipped ones often say nothing useful.
        app.removeAllContentTypeParsers();
        app.addContentTypeParser(
          '*',
          { parseAs: 'string', bodyLimit: SEGMENT_LIMITS.batchBytes },
          (request, body, done) => {
            try {
              const parsed: unknown = JSON.parse(body as string);
              sentTexts.set(request, body as string);
              done(null, parsed);
            } catch (error) {
              done(
                new HttpProblem(
                  400,
                  'malformed-json',
                  'Malformed JSON',
                  `the body is not JSON: ${(error as Error).message}`,
                ),
                undefined,
              );
            }
          },
        );
        // Bodies may be gzipped; the size limit applies to what they unpack to.
        app.addHook('preParsing', async (request, _reply, payload) => {
          const encoding = request.headers['content-encoding']?.toLowerCase();
          if (encoding === undefined || encoding === 'identity') return payload;
          if (encoding !== 'gzip') {
            throw new HttpProblem(
              415,
              'unsupported-encoding',
              'Unsupported content encoding',
              `content-encoding ${encoding} is not supported; send gzip or no encoding`,
            );
          }
          // Fastify reads `body` and checks Content-Length against the bytes that arrived,
          // counted here. Unpacking stops as soon as either size passes the limit, so a zip
          // bomb costs no more than the limit; a body that is not gzip is a 400, not a 500.
          const limit = SEGMENT_LIMITS.batchBytes;
          const body = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
          const gunzip = createGunzip();
          let unpacked = 0;
          const fail = (error: Error) => {
            if (body.destroyed) return;
            payload.unpipe(gunzip);
            gunzip.destroy();
            body.destroy(error);
          };
          // Fastify stops listening once it has answered; a late fault must not go unheard.
          body.on('error', () => {});
          payload.on('data', (chunk: Buffer) => {
            body.receivedEncodedLength += chunk.length;
            if (body.receivedEncodedLength > limit) fail(new FST_ERR_CTP_BODY_TOO_LARGE());
          });
          payload.on('error', fail);
          gunzip.on('error', (error) =>
            fail(
              new HttpProblem(
                400,
                'malformed-json',
                'Malformed JSON',
                `the body is not valid gzip: ${error.message}`,
              ),
            ),
          );
          gunzip.on('data', (chunk: Buffer) => {
            unpacked += chunk.length;
            if (unpacked > limit) fail(new FST_ERR_CTP_BODY_TOO_LARGE());
            else body.write(chunk);
          });
          gunzip.on('end', () => body.end());
          payload.pipe(gunzip);
          return body;
        });
        app.addHook('onSend', async (_request, reply) => {
          reply.headers(CORS_HEADERS);
        });

        const rateLimit = {
          max: options.rateLimit,
          timeWindow: 1000,
          keyGenerator: (request: FastifyRequest) => request.headers.authorization ?? request.ip,
        };

        async function receive(
          request: FastifyRequest,
          parse: (text: string, receivedAt: number) => ReturnType<typeof parseSegmentBatch>,
        ) {
          const receivedAt = clock();
          const token = writeKeyOf(request);
          if (token === null) {
            throw unauthorized(
              'no write key: send it as the HTTP Basic user name, or as writeKey in the body',
            );
          }
          const key = await writeKeys.check(token);
          if (!key.ok) {
            throw unauthorized(
              key.reason === 'revoked'
                ? 'the write key was revoked'
                : key.reason === 'not_a_write_key'
                  ? 'this key cannot send events; use a write key'
                  : 'the write key is not valid',
            );
          }
          // No text without a body, which the parsers refuse before they read any text.
          const parsed = parse(sentTexts.get(request) ?? '', Date.parse(receivedAt));
          if (!parsed.ok) throw invalidCalls(parsed.error);
          // Neither the parsed body nor its text is kept while the commit is under way: each
          // call's text is in its batch, and what dies young costs the collector little.
          request.body = undefined;
          sentTexts.delete(request);
          const result = await ingestion.ingest(key.workspaceId, parsed.value, receivedAt);
          return { success: true as const, ...result };
        }

        for (const type of SEGMENT_CALL_TYPES) {
          app.post(`/v1/${type}`, { config: { rateLimit }, schema: { hide: true } }, (request) =>
            receive(request, (text, at) => {
              const call = parseSegmentCall(request.body, text, type, at);
              return call.ok ? { ok: true, value: [call.value] } : call;
            }),
          );
        }
        for (const path of ['/v1/batch', '/v1/import']) {
          app.post(path, { config: { rateLimit }, schema: { hide: true } }, (request) =>
            receive(request, (text, at) => parseSegmentBatch(request.body, text, at)),
          );
        }
        app.options('/v1/*', { schema: { hide: true } }, async (_request, reply) =>
          reply.code(204).send(),
        );
      });
    },
    { name: 'ingest-routes' },
  );
}
