import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount, T0 } from '../testing/factories.js';
import { storedEvents as eventsIn } from '../testing/stored-events.js';
import { call, type Response, startTestServer, type TestServer } from '../testing/test-server.js';
import { basicAuth, type TrackingWorkspace, trackingWorkspace } from '../testing/tracking.js';

/**
 * The Segment-compatible tracking API over HTTP: what each refusal answers, that a refused
 * request stores nothing, and that the server goes on serving after each.
 */

const HOUR = 3_600_000;
const BODY_LIMIT = 512_000;
const SYNC_COUNT = 'event_count:Contact Synced:{"status":"ok"}:all';
// Before the server's clock (T0), so times given without sentAt are kept as given.
const at = (hoursBeforeT0: number) => new Date(Date.parse(T0) - hoursBeforeT0 * HOUR).toISOString();

/** A raw POST: the body as given (a string or bytes), the headers as given. */
async function post(
  server: Pick<TestServer, 'url'>,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function expectProblem(res: Response, status: number, slug?: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.json).toMatchObject({ status, ...(slug && { type: `urn:waymark:problem:${slug}` }) });
}

/** A valid track call, unique unless a message id is given. */
const track = (overrides: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'Page Tour Finished',
  userId: 'probe',
  messageId: `probe-${randomUUID()}`,
  timestamp: at(1),
  ...overrides,
});

/** A batch body padded with trailing whitespace (still JSON) to exactly `bytes` bytes. */
function paddedBatch(bytes: number): string {
  // Each call stays under 32 KB; together they come near the size asked for.
  const calls = [];
  let size = 20;
  while (size < bytes - 40_000) {
    const call = track({ properties: { note: 'x'.repeat(30_000) } });
    calls.push(call);
    size += JSON.stringify(call).length + 1;
  }
  const json = JSON.stringify({ batch: calls });
  if (json.length > bytes) throw new Error('padding overshot');
  return json + ' '.repeat(bytes - json.length);
}

describe.each(testEngines())('tracking API over HTTP [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;
  let auth: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server);
    auth = { authorization: basicAuth(space.writeKey) };
  });
  afterAll(async () => server.close());

  async function storedEvents(workspaceId = space.workspace.id): Promise<number> {
    return (await eventsIn(server.database.db, workspaceId)).length;
  }

  /** A valid request right after: the server still answers and still stores. */
  async function expectStillServing() {
    const before = await storedEvents();
    const res = await call(server, 'POST', '/v1/batch', {
      headers: auth,
      body: { batch: [track(), track({ type: 'page', event: undefined })] },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ success: true, received: 2, stored: 2 });
    expect(await storedEvents()).toBe(before + 2);
  }

  describe('bodies', () => {
    it('answers 400 malformed-json to a body that is not JSON', async () => {
      const before = await storedEvents();
      for (const body of ['{"batch": [', 'not json at all', '{"type":"track",}']) {
        const res = await post(server, '/v1/batch', body, auth);
        expectProblem(res, 400, 'malformed-json');
        expect(res.json.detail).toMatch(/not JSON/);
      }
      // Single-call routes parse the same way.
      expectProblem(await post(server, '/v1/track', '{"event":', auth), 400, 'malformed-json');
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('takes a body of exactly 512,000 bytes and answers 413 to one a byte over', async () => {
      const exact = paddedBatch(BODY_LIMIT);
      expect(Buffer.byteLength(exact)).toBe(BODY_LIMIT);
      const ok = await post(server, '/v1/batch', exact, auth);
      expect(ok.status, ok.text).toBe(200);

      const before = await storedEvents();
      const over = await post(server, '/v1/batch', paddedBatch(BODY_LIMIT + 1), auth);
      expectProblem(over, 413);
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('answers 413 to a body over the limit sent without a Content-Length (chunked)', async () => {
      const body = paddedBatch(BODY_LIMIT + 10_000);
      const res = await fetch(`${server.url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: new ReadableStream({
          start(controller) {
            const bytes = Buffer.from(body);
            for (let i = 0; i < bytes.length; i += 16_384) {
              controller.enqueue(bytes.subarray(i, i + 16_384));
            }
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      await res.text();
      await expectStillServing();
    });

    it('takes a gzipped batch and counts the limit on what it unpacks to (zip bomb → 413)', async () => {
      const small = await post(
        server,
        '/v1/batch',
        gzipSync(JSON.stringify({ batch: [track(), track()] })),
        { ...auth, 'content-encoding': 'gzip' },
      );
      expect(small.status, small.text).toBe(200);
      expect(small.json).toMatchObject({ received: 2, stored: 2 });

      const before = await storedEvents();
      // Valid JSON once unpacked (whitespace is), just over the limit, a few hundred bytes packed.
      const justOver = gzipSync(paddedBatch(BODY_LIMIT + 1));
      expect(justOver.length).toBeLessThan(BODY_LIMIT);
      expectProblem(
        await post(server, '/v1/batch', justOver, { ...auth, 'content-encoding': 'gzip' }),
        413,
      );
      // A real bomb: 200 MB of whitespace in about 200 KB (gzip members one after another
      // unpack as one body).
      const member = gzipSync(Buffer.alloc(1_000_000, ' '), { level: 9 });
      const bomb = Buffer.concat(Array.from({ length: 200 }, () => member));
      expect(bomb.length).toBeLessThan(BODY_LIMIT);
      const started = Date.now();
      const res = await post(server, '/v1/batch', bomb, { ...auth, 'content-encoding': 'gzip' });
      expectProblem(res, 413);
      // Refused as soon as the limit is passed, not after unpacking everything.
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('answers 400 malformed-json to a corrupt gzip body', async () => {
      const packed = gzipSync(JSON.stringify({ batch: [track()] }));
      const corrupt = Buffer.from(packed);
      corrupt.fill(0x55, 10, 20); // the deflate stream, past the header
      const truncated = packed.subarray(0, packed.length - 8);
      const notGzip = Buffer.from(JSON.stringify({ batch: [track()] }));
      const before = await storedEvents();
      for (const body of [corrupt, truncated, notGzip]) {
        const res = await post(server, '/v1/batch', body, { ...auth, 'content-encoding': 'gzip' });
        expectProblem(res, 400, 'malformed-json');
        expect(res.json.detail).toMatch(/gzip/);
      }
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('answers 415 to an encoding other than gzip', async () => {
      const res = await post(server, '/v1/batch', JSON.stringify({ batch: [track()] }), {
        ...auth,
        'content-encoding': 'br',
      });
      expectProblem(res, 415, 'unsupported-encoding');
      await expectStillServing();
    });
  });

  describe('calls', () => {
    /**
     * Posts a batch that must be refused as a whole: 400 invalid-events listing `errors`,
     * nothing of it stored, the server still serving. Returns the problem's body.
     */
    async function expectRefusedBatch(batch: unknown[], errors: unknown[]) {
      const before = await storedEvents();
      const res = await call(server, 'POST', '/v1/batch', { headers: auth, body: { batch } });
      expectProblem(res, 400, 'invalid-events');
      expect(res.json.errors).toEqual(errors);
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
      return res.json;
    }

    it('refuses a batch with one call over 32 KB, naming batch[i], and stores none of it', async () => {
      await expectRefusedBatch(
        [track(), track({ properties: { note: 'x'.repeat(33_000) } }), track()],
        [{ index: 1, field: 'batch[1]', message: expect.stringMatching(/32768 bytes/) }],
      );
    });

    it('refuses a single call over 32 KB, naming the body', async () => {
      const res = await call(server, 'POST', '/v1/track', {
        headers: auth,
        body: track({ properties: { note: 'x'.repeat(33_000) } }),
      });
      expectProblem(res, 400, 'invalid-events');
      expect(res.json.errors).toEqual([
        { index: null, field: 'body', message: expect.stringMatching(/32768/) },
      ]);
      await expectStillServing();
    });

    it('lists every fault of a batch with its index and field, and stores nothing of it', async () => {
      // The valid calls of the refused batch are not stored either.
      const problem = await expectRefusedBatch(
        [
          track(),
          track({ event: undefined }),
          track({ userId: undefined }),
          { type: 'group', userId: 'ada', traits: { plan: 'pro' } },
          track({ timestamp: 'yesterday' }),
          track({ timestamp: '2026-03-01T10:00:00' }), // no time zone
          track(),
        ],
        [
          { index: 1, field: 'batch[1].event', message: 'is required for a track call' },
          {
            index: 2,
            field: 'batch[2].userId',
            message: 'is required when there is no anonymousId',
          },
          { index: 3, field: 'batch[3].groupId', message: 'is required for a group call' },
          { index: 4, field: 'batch[4].timestamp', message: expect.stringMatching(/ISO-8601/) },
          { index: 5, field: 'batch[5].timestamp', message: expect.stringMatching(/ISO-8601/) },
        ],
      );
      expect(problem.detail).toMatch(/^5 faults, nothing of this request was stored/);
    });

    it('refuses U+0000 where it would be stored outside the call’s JSON, on both engines', async () => {
      const message = 'must not contain the character U+0000 (NUL), which cannot be stored';
      await expectRefusedBatch(
        [
          track({ properties: { note: 'kept as sent: \u0000' } }),
          track({ userId: 'ada\u0000' }),
          { type: 'group', userId: 'ada', groupId: 'acme', traits: { plan: 'pro\u0000' } },
        ],
        [
          { index: 1, field: 'batch[1].userId', message },
          { index: 2, field: 'batch[2].traits.plan', message },
        ],
      );
    });

    it('refuses a single call with its faults, without an index', async () => {
      const res = await call(server, 'POST', '/v1/group', {
        headers: auth,
        body: { anonymousId: 'v1' },
      });
      expectProblem(res, 400, 'invalid-events');
      expect(res.json.errors).toEqual([
        { index: null, field: 'groupId', message: 'is required for a group call' },
      ]);
      await expectStillServing();
    });
  });

  describe('write keys', () => {
    const body = () => ({ batch: [track()] });

    it('answers 401 to an unknown write key', async () => {
      const before = await storedEvents();
      const res = await call(server, 'POST', '/v1/batch', {
        headers: { authorization: basicAuth('wm_wk_not-a-real-key') },
        body: body(),
      });
      expectProblem(res, 401, 'unauthorized');
      expect(res.json.detail).toBe('the write key is not valid');
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('answers 401 without any key, and to an Authorization that is not Basic', async () => {
      const none = await call(server, 'POST', '/v1/batch', { body: body() });
      expectProblem(none, 401, 'unauthorized');
      expect(none.json.detail).toMatch(/no write key/);
      const bearer = await call(server, 'POST', '/v1/batch', {
        headers: { authorization: `Bearer ${space.writeKey}` },
        body: body(),
      });
      expectProblem(bearer, 401, 'unauthorized');
      expect(bearer.json.detail).toMatch(/HTTP Basic/);
      await expectStillServing();
    });

    it('answers 401 to a secret API key used as a write key', async () => {
      const secret = await call(server, 'POST', '/api/v1/api-keys', {
        as: space.admin,
        body: { kind: 'secret', name: 'backend', role: 'admin' },
      });
      expect(secret.status, secret.text).toBe(201);
      const res = await call(server, 'POST', '/v1/batch', {
        headers: { authorization: basicAuth(secret.json.token) },
        body: body(),
      });
      expectProblem(res, 401, 'unauthorized');
      expect(res.json.detail).toBe('this key cannot send events; use a write key');
      // Nor in the body.
      const inBody = await call(server, 'POST', '/v1/batch', {
        body: { ...body(), writeKey: secret.json.token },
      });
      expectProblem(inBody, 401, 'unauthorized');
      await expectStillServing();
    });

    /** A new write key of this workspace, and its id. */
    async function newWriteKey(name: string) {
      const created = await call(server, 'POST', '/api/v1/api-keys', {
        as: space.admin,
        body: { kind: 'write', name },
      });
      expect(created.status, created.text).toBe(201);
      return { id: created.json.id as string, token: created.json.token as string };
    }

    async function revoke(keyId: string) {
      const revoked = await call(server, 'DELETE', `/api/v1/api-keys/${keyId}`, {
        as: space.admin,
      });
      expect(revoked.status, revoked.text).toBe(204);
    }

    it('answers 401 to a write key revoked through the API', async () => {
      const key = await newWriteKey('revoked before use');
      await revoke(key.id);
      const before = await storedEvents();
      const res = await call(server, 'POST', '/v1/batch', {
        headers: { authorization: basicAuth(key.token) },
        body: body(),
      });
      expectProblem(res, 401, 'unauthorized');
      expect(res.json.detail).toBe('the write key was revoked');
      const inBody = await call(server, 'POST', '/v1/batch', {
        body: { ...body(), writeKey: key.token },
      });
      expectProblem(inBody, 401, 'unauthorized');
      expect(await storedEvents()).toBe(before);
      await expectStillServing();
    });

    it('answers 401 at once to a write key revoked while in use', async () => {
      const key = await newWriteKey('revoked in use');
      const headers = { authorization: basicAuth(key.token) };
      const used = await call(server, 'POST', '/v1/batch', { headers, body: body() });
      expect(used.status, used.text).toBe(200);
      await revoke(key.id);
      const res = await call(server, 'POST', '/v1/batch', { headers, body: body() });
      expectProblem(res, 401, 'unauthorized');
      expect(res.json.detail).toBe('the write key was revoked');
    });

    it('takes the write key in the body instead of Basic auth', async () => {
      const batch = await call(server, 'POST', '/v1/batch', {
        body: { ...body(), writeKey: space.writeKey },
      });
      expect(batch.status, batch.text).toBe(200);
      expect(batch.json).toEqual({ success: true, received: 1, stored: 1 });
      const single = await call(server, 'POST', '/v1/track', {
        body: { ...track(), writeKey: space.writeKey },
      });
      expect(single.status, single.text).toBe(200);
      // Sent as text/plain, as browser libraries do to skip a preflight.
      const plain = await post(
        server,
        '/v1/track',
        JSON.stringify({ ...track(), writeKey: space.writeKey }),
        { 'content-type': 'text/plain' },
      );
      expect(plain.status, plain.text).toBe(200);
      await expectStillServing();
    });

    it('never stores the write key given in the body', async () => {
      const single = track({ messageId: 'wk-single' });
      const inBatch = track({ messageId: 'wk-batch' });
      const inCall = track({ messageId: 'wk-in-call', writeKey: space.writeKey });
      expect(
        (await call(server, 'POST', '/v1/track', { body: { ...single, writeKey: space.writeKey } }))
          .status,
      ).toBe(200);
      expect(
        (
          await call(server, 'POST', '/v1/batch', {
            body: { batch: [inBatch, inCall], writeKey: space.writeKey },
          })
        ).status,
      ).toBe(200);
      const rows = (await eventsIn(server.database.db, space.workspace.id))
        .filter((e) => ['wk-single', 'wk-batch', 'wk-in-call'].includes(e.message_id))
        .sort((a, b) => (a.message_id < b.message_id ? -1 : 1));
      expect(rows.map((r) => r.message_id)).toEqual(['wk-batch', 'wk-in-call', 'wk-single']);
      for (const row of rows) {
        expect(row.payload).not.toContain(space.writeKey);
        expect(JSON.parse(row.payload)).not.toHaveProperty('writeKey');
        // The rest of the call is kept as sent.
        expect(JSON.parse(row.payload)).toMatchObject({ event: 'Page Tour Finished' });
      }
    });
  });

  describe('what is stored', () => {
    it('keeps every call as sent, whatever characters its strings hold', async () => {
      const odd = 'quote " backslash \\ separator \u001e tab \t line\nbreak émoji 🚀 {"json": [1]}';
      const calls = [
        track({
          messageId: `odd-1 ${odd}`,
          event: odd,
          userId: odd,
          properties: { note: odd, nul: 'only in the call\u0000s JSON' },
        }),
        track({
          messageId: 'odd-2',
          anonymousId: odd,
          userId: undefined,
          context: { groupId: odd },
        }),
        track({ messageId: 'odd-3', properties: { empty: '', nested: { list: [odd, null] } } }),
      ];
      const res = await call(server, 'POST', '/v1/batch', {
        headers: auth,
        body: { batch: calls },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ success: true, received: 3, stored: 3 });
      const sentIds = new Set(calls.map((c) => c.messageId));
      const rows = (await eventsIn(server.database.db, space.workspace.id)).filter((e) =>
        sentIds.has(e.message_id),
      );
      const byId = new Map(rows.map((row) => [row.message_id, row]));
      expect(byId.get(`odd-1 ${odd}`)).toMatchObject({ event: odd, user_id: odd });
      expect(byId.get('odd-2')).toMatchObject({ anonymous_id: odd, account_key: odd });
      for (const sent of calls) {
        const stored = byId.get(sent.messageId);
        expect(stored, sent.messageId).toBeDefined();
        expect(JSON.parse(stored?.payload ?? 'null')).toEqual(JSON.parse(JSON.stringify(sent)));
      }
    });
  });

  describe('CORS', () => {
    it('answers a preflight with 204 and allows any origin', async () => {
      const res = await fetch(`${server.url}/v1/batch`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-allow-headers')).toContain('content-encoding');
    });

    it('puts the CORS headers on answers and refusals alike', async () => {
      const headers = { origin: 'https://app.example.com' };
      const answers = [
        await call(server, 'POST', '/v1/batch', {
          headers: { ...headers, ...auth },
          body: { batch: [track()] },
        }),
        await call(server, 'POST', '/v1/track', { headers, body: track() }), // 401
        await call(server, 'POST', '/v1/batch', {
          headers: { ...headers, ...auth },
          body: { batch: [{}] },
        }), // 400
        await post(server, '/v1/batch', '{', { ...headers, ...auth }), // 400 malformed
        await post(server, '/v1/batch', paddedBatch(BODY_LIMIT + 1), { ...headers, ...auth }), // 413
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 401, 400, 400, 413]);
      for (const res of answers) {
        expect(res.headers.get('access-control-allow-origin'), String(res.status)).toBe('*');
      }
      await expectStillServing();
    });
  });

  describe('retries', () => {
    it('stores a retried batch once, and it counts once toward a criterion', async () => {
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: 'retry-co',
      });
      const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
        as: space.admin,
        body: { programKey: 'tracked', startedAt: at(48) },
      });
      expect(enrolled.status, enrolled.text).toBe(201);
      await server.app.tracker.settled();
      const synced = (id: string, hoursBeforeT0: number) =>
        track({
          event: 'Contact Synced',
          userId: 'ada',
          messageId: id,
          properties: { status: 'ok' },
          context: { groupId: 'retry-co' },
          timestamp: at(hoursBeforeT0),
        });
      const countOf = async () =>
        (await eventsIn(server.database.db, space.workspace.id)).filter(
          (e) => e.account_key === 'retry-co',
        ).length;
      const progress = async () => {
        const res = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
          as: space.admin,
        });
        expect(res.status, res.text).toBe(200);
        return res.json.enrollments[0].milestones.find((m: { key: string }) => m.key === 'sync');
      };

      // Two distinct calls, delivered twice each (a retry after a lost answer), and a batch
      // that repeats a message id within itself.
      const batch = { batch: [synced('retry-1', 30), synced('retry-2', 20)] };
      const first = await call(server, 'POST', '/v1/batch', { headers: auth, body: batch });
      expect(first.json).toEqual({ success: true, received: 2, stored: 2 });
      const again = await call(server, 'POST', '/v1/batch', { headers: auth, body: batch });
      expect(again.status, again.text).toBe(200);
      expect(again.json).toEqual({ success: true, received: 2, stored: 0 });
      const doubled = await call(server, 'POST', '/v1/batch', {
        headers: auth,
        body: { batch: [synced('retry-1', 30), synced('retry-1', 30)] },
      });
      expect(doubled.json).toEqual({ success: true, received: 2, stored: 0 });
      const inOne = await call(server, 'POST', '/v1/batch', {
        headers: auth,
        body: { batch: [synced('retry-3', 10), synced('retry-3', 10)] },
      });
      expect(inOne.json).toEqual({ success: true, received: 2, stored: 1 });
      expect(await countOf()).toBe(3);

      await server.app.tracker.settled();
      // Three distinct calls: the criterion (3) is met by them, not by the six deliveries.
      const sync = await progress();
      expect(sync).toMatchObject({
        status: 'completed',
        source: 'automatic',
        completedAt: at(10),
        evidence: { metrics: { [SYNC_COUNT]: 3 }, event: { messageId: 'retry-3' } },
      });

      // The retried batch once more after tracking: still nothing new, nothing counted twice.
      const late = await call(server, 'POST', '/v1/batch', { headers: auth, body: batch });
      expect(late.json).toEqual({ success: true, received: 2, stored: 0 });
      await server.app.tracker.settled();
      expect(await countOf()).toBe(3);
      const metrics = await server.database.db
        .selectFrom('enrollment_metrics')
        .select('state')
        .where('enrollment_id', '=', enrolled.json.id)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(metrics.state).counts[SYNC_COUNT]).toBe(3);
      await expectStillServing();
    });

    it('does not count a retry of a call that was below the criterion', async () => {
      const account = await makeAccount(server.database.db, space.workspace.id, {
        externalId: 'retry-below',
      });
      const enrolled = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
        as: space.admin,
        body: { programKey: 'tracked', startedAt: at(48) },
      });
      expect(enrolled.status, enrolled.text).toBe(201);
      const batch = {
        batch: ['below-1', 'below-2'].map((messageId, i) =>
          track({
            event: 'Contact Synced',
            messageId,
            properties: { status: 'ok' },
            context: { groupId: 'retry-below' },
            timestamp: at(5 - i),
          }),
        ),
      };
      for (let i = 0; i < 3; i++) {
        const res = await call(server, 'POST', '/v1/batch', { headers: auth, body: batch });
        expect(res.json).toEqual({ success: true, received: 2, stored: i === 0 ? 2 : 0 });
        await server.app.tracker.settled();
      }
      const res = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
        as: space.admin,
      });
      const sync = res.json.enrollments[0].milestones.find(
        (m: { key: string }) => m.key === 'sync',
      );
      // Two distinct calls sent three times: 2 < 3, not completed.
      expect(sync.status).toBe('open');
      const metrics = await server.database.db
        .selectFrom('enrollment_metrics')
        .select('state')
        .where('enrollment_id', '=', enrolled.json.id)
        .executeTakeFirstOrThrow();
      expect(JSON.parse(metrics.state).counts[SYNC_COUNT]).toBe(2);
    });
  });
});

describe.each(testEngines())('tracking API rate limit [%s]', (engine) => {
  let server: TestServer;
  let space: TrackingWorkspace;
  let other: TrackingWorkspace;

  beforeAll(async () => {
    server = await startTestServer(engine, { ingestRateLimit: 5 });
    space = await trackingWorkspace(server);
    other = await trackingWorkspace(server);
  });
  afterAll(async () => server.close());

  const send = (writeKey: string) =>
    call(server, 'POST', '/v1/batch', {
      headers: { authorization: basicAuth(writeKey) },
      body: { batch: [track()] },
    });

  it('answers 429 with Retry-After beyond the per-key rate, then serves again after the window', async () => {
    const flood = await Promise.all(Array.from({ length: 30 }, () => send(space.writeKey)));
    const statuses = flood.map((r) => r.status);
    // Every request is answered: accepted or refused, nothing else.
    expect(
      statuses.every((s) => s === 200 || s === 429),
      statuses.join(),
    ).toBe(true);
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(flood.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    for (const res of limited) {
      expectProblem(res, 429);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
    // The limit is per write key: another workspace's key is not held back by this flood.
    expect((await send(other.writeKey)).status).toBe(200);

    // After the window (one second), the key is served again. Polled, bounded.
    let after: Response | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      after = await send(space.writeKey);
      if (after.status === 200) break;
      expect(after.status).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(after?.status, after?.text).toBe(200);
    expect(after?.json).toEqual({ success: true, received: 1, stored: 1 });
  });
});
