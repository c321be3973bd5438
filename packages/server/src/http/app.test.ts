import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEngines } from '../testing/describe-engines.js';
import { buildServer } from './app.js';

describeEngines('HTTP server', (use, engine) => {
  let app: FastifyInstance;
  let base: string;
  const logs: string[] = [];

  beforeAll(async () => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    app = await buildServer({
      database: use(),
      logLevel: 'info',
      logStream,
      webRoot: '/nonexistent',
    });
    // A route of the test's own, to exercise validation and body handling.
    app.withTypeProvider<ZodTypeProvider>().post(
      '/test/echo',
      {
        schema: {
          body: z.object({ name: z.string().min(1), seats: z.number().int().positive() }),
        },
      },
      async (request) => request.body,
    );
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers liveness with the version', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it('answers readiness after asking the database', async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ready', database: { engine } });
  });

  it('publishes an OpenAPI 3.1 document and a browsable reference', async () => {
    const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz']));
    const page = await fetch(`${base}/api/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('swagger');
  });

  it('answers an unknown route with a problem document', async () => {
    const response = await fetch(`${base}/nowhere?x=1`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(await response.json()).toMatchObject({
      status: 404,
      title: 'Not found',
      detail: 'No route GET /nowhere',
    });
  });

  it('names each invalid field', async () => {
    const response = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '', seats: 2.5 }),
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ field: string }> };
    expect(problem).toMatchObject({ type: 'urn:waymark:problem:validation', status: 400 });
    expect(problem.errors.map((e) => e.field).sort()).toEqual(['body.name', 'body.seats']);
  });

  it('refuses malformed JSON and oversized bodies with problems, and keeps serving', async () => {
    const bad = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');

    const huge = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), seats: 1 }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ status: 413 });

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('sends security headers, and no CORS grant to another origin', async () => {
    const response = await fetch(`${base}/api/v1/accounts`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/api/v1/accounts`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('logs requests without secrets from the query string', async () => {
    await fetch(`${base}/healthz?token=s3cr3t-value&page=2`);
    const text = logs.join('');
    expect(text).toContain('/healthz?token=%5Bredacted%5D&page=2');
    expect(text).not.toContain('s3cr3t-value');
  });
});

describeEngines('readiness when the database is gone', (use) => {
  it('answers 503 with a problem, while liveness stays up', async () => {
    const { dialect } = use();
    const closed = await (async () => {
      const { createTestDatabase } = await import('../testing/engines.js');
      const database = await createTestDatabase(dialect.engine);
      await database.drop();
      return database;
    })();
    const app = await buildServer({
      database: closed,
      logLevel: 'silent',
      webRoot: '/nonexistent',
    });
    try {
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 503, title: 'Not ready' });
      expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
