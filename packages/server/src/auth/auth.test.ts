import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import {
  call,
  type Member,
  newWorkspace,
  PASSWORD,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';

describe.each(testEngines())('sign-in, sessions and keys [%s]', (engine) => {
  let server: TestServer;
  let workspace: Workspace;
  let admin: Member;

  beforeAll(async () => {
    server = await startTestServer(engine);
    workspace = await newWorkspace(server);
    admin = await signedInMember(server, workspace, 'admin');
  });
  afterAll(async () => server.close());

  describe('sessions', () => {
    it('sets an httpOnly, SameSite cookie and answers who is signed in', async () => {
      const member = await signedInMember(server, workspace, 'csm');
      const login = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: member.email, password: PASSWORD },
      });
      const cookie = login.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^waymark_session=wm_ses_[\w-]{43};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).not.toContain('Secure'); // plain HTTP on loopback; behind TLS it is added
      const session = await call(server, 'GET', '/api/v1/auth/session', { as: member });
      expect(session.status).toBe(200);
      expect(session.json).toMatchObject({
        user: { id: member.userId, role: 'csm' },
        workspace: { id: workspace.id },
        csrfToken: member.csrfToken,
      });
    });

    it('ends the session for good on logout', async () => {
      const member = await signedInMember(server, workspace, 'viewer');
      const out = await call(server, 'POST', '/api/v1/auth/logout', { as: member });
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/waymark_session=;/);
      const after = await call(server, 'GET', '/api/v1/auth/session', { as: member });
      expect(after.status).toBe(401);
      expect(after.json).toMatchObject({
        status: 401,
        detail: 'the session has expired or was ended; sign in again',
      });
    });

    it('expires a session after seven days', async () => {
      const member = await signedInMember(server, workspace, 'viewer');
      server.clock.advance(7 * 24 * 3600_000 + 1000);
      try {
        expect((await call(server, 'GET', '/api/v1/auth/session', { as: member })).status).toBe(
          401,
        );
      } finally {
        server.clock.advance(-(7 * 24 * 3600_000 + 1000));
      }
    });

    it('ends every session of a deactivated person, keeps their history, and refuses their sign-in', async () => {
      const member = await signedInMember(server, workspace, 'csm');
      const off = await call(server, 'PATCH', `/api/v1/users/${member.userId}`, {
        as: admin,
        body: { active: false },
      });
      expect(off.status).toBe(200);
      expect(off.json).toMatchObject({ id: member.userId, active: false });
      expect((await call(server, 'GET', '/api/v1/auth/session', { as: member })).status).toBe(401);
      const again = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: member.email, password: PASSWORD },
      });
      expect(again.status).toBe(401);
      const trail = await call(
        server,
        'GET',
        `/api/v1/audit-events?entityType=user&entityId=${member.userId}`,
        { as: admin },
      );
      expect(trail.json.events.map((e: { action: string }) => e.action)).toEqual([
        'user.deactivated',
        'user.signed_in',
      ]);
      expect(trail.json.events[0]).toMatchObject({
        actor: { type: 'user', id: admin.userId },
        before: { active: true },
        after: { active: false },
      });
    });
  });

  describe('wrong credentials and lockout', () => {
    it('answers a wrong password and an unknown email alike', async () => {
      const member = await signedInMember(server, workspace, 'csm');
      const wrong = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: member.email, password: 'not the password' },
      });
      const unknown = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'nobody@example.com', password: 'not the password' },
      });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const { instance: _a, ...wrongBody } = wrong.json;
      const { instance: _b, ...unknownBody } = unknown.json;
      expect(wrongBody).toEqual(unknownBody);
      expect(wrongBody.detail).toBe('the email or password is wrong');
    });

    it('locks an email after five failures in fifteen minutes, even for the right password, then lets it in again', async () => {
      const member = await signedInMember(server, workspace, 'csm');
      const attempt = (password: string) =>
        call(server, 'POST', '/api/v1/auth/login', { body: { email: member.email, password } });
      for (let i = 0; i < 4; i++) expect((await attempt('guess')).status).toBe(401);
      const fifth = await attempt('guess');
      expect(fifth.status).toBe(429);
      expect(fifth.headers.get('retry-after')).toBe(String(15 * 60));
      const right = await attempt(PASSWORD);
      expect(right.status).toBe(429);
      expect(right.json).toMatchObject({ status: 429, title: 'Too many failed sign-ins' });

      server.clock.advance(15 * 60_000);
      expect((await attempt(PASSWORD)).status).toBe(200);
    });

    it('locks an unknown email the same way, so the lock tells nothing', async () => {
      const attempt = () =>
        call(server, 'POST', '/api/v1/auth/login', {
          body: { email: 'ghost@example.com', password: 'guess' },
        });
      for (let i = 0; i < 4; i++) expect((await attempt()).status).toBe(401);
      expect((await attempt()).status).toBe(429);
    });

    it('names the field when the request itself is malformed', async () => {
      const bad = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'not-an-email' },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'body.email',
        'body.password',
      ]);
    });
  });

  describe('CSRF', () => {
    const change = { name: 'Renamed by CSRF test' };
    it('refuses a change made with the cookie but without the token', async () => {
      const res = await call(server, 'PATCH', '/api/v1/workspace', {
        as: { cookie: admin.cookie },
        body: change,
      });
      expect(res.status).toBe(403);
      expect(res.json.detail).toMatch(/x-csrf-token/);
    });
    it('refuses a wrong token, and one from another session', async () => {
      const other = await signedInMember(server, workspace, 'admin');
      for (const csrfToken of ['forged', other.csrfToken]) {
        const res = await call(server, 'PATCH', '/api/v1/workspace', {
          as: { cookie: admin.cookie, csrfToken },
          body: change,
        });
        expect(res.status).toBe(403);
      }
      expect((await call(server, 'GET', '/api/v1/workspace', { as: admin })).json.name).not.toBe(
        change.name,
      );
    });
    it('accepts the session’s own token', async () => {
      const res = await call(server, 'PATCH', '/api/v1/workspace', { as: admin, body: change });
      expect(res.status).toBe(200);
      expect(res.json.name).toBe(change.name);
    });
    it('needs no token for reads, nor for a bearer key', async () => {
      expect(
        (await call(server, 'GET', '/api/v1/workspace', { as: { cookie: admin.cookie } })).status,
      ).toBe(200);
      const key = await call(server, 'POST', '/api/v1/api-keys', {
        as: admin,
        body: { kind: 'secret', name: 'ci', role: 'admin' },
      });
      const res = await call(server, 'PATCH', '/api/v1/workspace', {
        as: { bearer: key.json.token },
        body: { name: 'By key' },
      });
      expect(res.status).toBe(200);
    });
  });

  describe('API keys', () => {
    it('shows a secret once, stores only its hash, and records last use', async () => {
      const created = await call(server, 'POST', '/api/v1/api-keys', {
        as: admin,
        body: { kind: 'secret', name: 'reporting', role: 'viewer' },
      });
      expect(created.status).toBe(201);
      const { token, id, prefix } = created.json;
      expect(token).toMatch(/^wm_sk_[\w-]{43}$/);
      expect(token.startsWith(prefix)).toBe(true);
      const listed = await call(server, 'GET', '/api/v1/api-keys', { as: admin });
      expect(listed.text).not.toContain(token);
      const stored = await server.database.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(token);

      const read = await call(server, 'GET', '/api/v1/accounts', { as: { bearer: token } });
      expect(read.status).toBe(200);
      const after = (
        await call(server, 'GET', '/api/v1/api-keys', { as: admin })
      ).json.apiKeys.find((k: { id: string }) => k.id === id);
      expect(after.lastUsedAt).toBe(server.clock());
      // a viewer key may read but not change
      const write = await call(server, 'POST', '/api/v1/accounts', {
        as: { bearer: token },
        body: { externalId: 'x', name: 'X' },
      });
      expect(write.status).toBe(403);
      expect(write.json.detail).toBe('the viewer role may not accounts write');
    });

    it('refuses a revoked key, an unknown key and a malformed header with 401', async () => {
      const { json } = await call(server, 'POST', '/api/v1/api-keys', {
        as: admin,
        body: { kind: 'secret', name: 'temp', role: 'admin' },
      });
      expect(
        (await call(server, 'DELETE', `/api/v1/api-keys/${json.id}`, { as: admin })).status,
      ).toBe(204);
      const revoked = await call(server, 'GET', '/api/v1/accounts', { as: { bearer: json.token } });
      expect(revoked.status).toBe(401);
      expect(revoked.json.detail).toBe('the API key was revoked');
      const unknown = await call(server, 'GET', '/api/v1/accounts', {
        as: { bearer: 'wm_sk_made-up' },
      });
      expect(unknown.json).toMatchObject({ status: 401, detail: 'the API key is not valid' });
      const basic = await call(server, 'GET', '/api/v1/accounts', {
        headers: { authorization: 'Basic abc' },
      });
      expect(basic.status).toBe(401);
    });

    it('keeps write keys to events and publishable keys to the checklist (403)', async () => {
      for (const kind of ['write', 'publishable'] as const) {
        const { json } = await call(server, 'POST', '/api/v1/api-keys', {
          as: admin,
          body: { kind, name: kind },
        });
        expect(json.role).toBeNull();
        const res = await call(server, 'GET', '/api/v1/accounts', { as: { bearer: json.token } });
        expect(res.status).toBe(403);
        expect(res.json.detail).toMatch(
          kind === 'write' ? /only send events/ : /only read the in-app checklist/,
        );
      }
    });

    it('answers a request without credentials with 401 and how to authenticate', async () => {
      const res = await call(server, 'GET', '/api/v1/accounts');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.json.detail).toBe('sign in, or send an API key as a bearer token');
    });
  });
});

describe.each(testEngines())('behind a TLS-terminating proxy [%s]', (engine) => {
  it('marks the session cookie Secure when the public URL is https', async () => {
    const server = await startTestServer(engine, { publicUrl: 'https://waymark.example.com' });
    try {
      const member = await signedInMember(server, await newWorkspace(server), 'viewer');
      const login = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: member.email, password: PASSWORD },
      });
      expect(login.headers.get('set-cookie')).toContain('Secure');
    } finally {
      await server.close();
    }
  });
});

describe.each(testEngines())('sign-in rate limit per address [%s]', (engine) => {
  it('answers 429 with a problem once an address exceeds its sign-ins per minute, across emails', async () => {
    const server = await startTestServer(engine, { signInRateLimit: 3 });
    try {
      const attempt = (i: number) =>
        call(server, 'POST', '/api/v1/auth/login', {
          body: { email: `probe-${i}@example.com`, password: 'x' },
        });
      for (let i = 0; i < 3; i++) expect((await attempt(i)).status).toBe(401);
      const limited = await attempt(3);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toContain('application/problem+json');
      expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await call(server, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
