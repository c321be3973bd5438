import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import {
  call,
  newWorkspace,
  PASSWORD,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import { createAuthService } from './auth.service.js';

describe.each(testEngines())('no secret reaches the logs [%s]', (engine) => {
  let server: TestServer;
  const secrets: string[] = [];

  beforeAll(async () => {
    server = await startTestServer(engine);
    const workspace = await newWorkspace(server);
    const admin = await signedInMember(server, workspace, 'admin');
    secrets.push(PASSWORD, admin.cookie.split('=')[1] ?? '', admin.csrfToken);

    // A failed sign-in carries a password too.
    await call(server, 'POST', '/api/v1/auth/login', {
      body: { email: admin.email, password: 'wrong-password-in-a-body' },
    });
    secrets.push('wrong-password-in-a-body');

    const key = await call(server, 'POST', '/api/v1/api-keys', {
      as: admin,
      body: { kind: 'secret', name: 'logs', role: 'admin' },
    });
    secrets.push(key.json.token);
    await call(server, 'GET', '/api/v1/accounts', { as: { bearer: key.json.token } });
    await call(server, 'GET', `/api/v1/accounts?token=${key.json.token}`, {
      as: { bearer: key.json.token },
    });

    const invite = await call(server, 'POST', '/api/v1/invitations', {
      as: admin,
      body: { email: 'new@example.com', role: 'csm' },
    });
    const inviteToken = new URL(invite.json.link).searchParams.get('token') ?? '';
    secrets.push(inviteToken);
    await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token: inviteToken, name: 'New', password: 'invitee-password-123' },
    });
    secrets.push('invitee-password-123');

    const setupToken = await createAuthService({
      db: server.database.db,
      clock: server.clock,
    }).createSetupToken();
    secrets.push(setupToken);
    await call(server, 'POST', '/api/v1/setup', {
      body: {
        token: setupToken,
        workspaceName: 'x',
        timeZone: 'UTC',
        name: 'x',
        email: 'x@example.com',
        password: 'setup-password-123',
      },
    });
    secrets.push('setup-password-123');
    await call(server, 'POST', '/api/v1/auth/logout', { as: admin });
  });
  afterAll(async () => server.close());

  it('logs every request, and not one password, token, cookie or key', () => {
    const text = server.logs.join('');
    expect(text).toContain('"url":"/api/v1/auth/login"');
    expect(text).toContain('/api/v1/accounts?token=%5Bredacted%5D');
    expect(secrets.filter(Boolean).length).toBeGreaterThanOrEqual(9);
    for (const secret of secrets.filter(Boolean))
      expect(text, 'a secret in the logs').not.toContain(secret);
  });
});
