import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../mail/mailer.js';
import { testEngines } from '../testing/engines.js';
import { startSmtpServer } from '../testing/smtp.js';
import {
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';

describe.each(testEngines())('inviting people by email [%s]', (engine) => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let server: TestServer;
  let admin: Member;
  let manager: Member;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    server = await startTestServer(engine, {
      publicUrl: 'https://waymark.example.com',
      mailer: createSmtpMailer(smtp.url, 'Waymark <waymark@example.com>'),
    });
    const workspace = await newWorkspace(server);
    admin = await signedInMember(server, workspace, 'admin');
    manager = await signedInMember(server, workspace, 'manager');
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  it('emails a one-time link that makes the person a member with their role and manager', async () => {
    const invite = await call(server, 'POST', '/api/v1/invitations', {
      as: admin,
      body: { email: 'Casey.CSM@Customer.example', role: 'csm', managerId: manager.userId },
    });
    expect(invite.status).toBe(201);
    expect(invite.json).toMatchObject({
      email: 'casey.csm@customer.example',
      role: 'csm',
      managerId: manager.userId,
      emailed: true,
    });
    expect(invite.json.link).toMatch(
      /^https:\/\/waymark\.example\.com\/accept-invite\?token=wm_inv_/,
    );

    const mail = await smtp.nextMessage();
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe(
      'casey.csm@customer.example',
    );
    expect(mail.from?.value[0]).toMatchObject({ name: 'Waymark', address: 'waymark@example.com' });
    expect(mail.subject).toBe('A admin invited you to Acme Onboarding on Waymark');
    expect(mail.text).toContain(invite.json.link);
    expect(mail.text).toContain('as a CSM');

    const token = new URL(invite.json.link).searchParams.get('token');
    const accept = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token, name: 'Casey', password: 'a fine long password' },
    });
    expect(accept.status).toBe(201);
    expect(accept.json.user).toMatchObject({
      email: 'casey.csm@customer.example',
      name: 'Casey',
      role: 'csm',
    });
    expect(accept.headers.get('set-cookie')).toContain('HttpOnly');
    const person = await call(server, 'GET', `/api/v1/users/${accept.json.user.id}`, { as: admin });
    expect(person.json).toMatchObject({ managerId: manager.userId, active: true });

    const again = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token, name: 'Mallory', password: 'another long password' },
    });
    expect(again.status).toBe(401);
    expect(again.json.detail).toBe('the invitation is unknown, used, revoked or expired');
  });

  it('expires an invitation after seven days', async () => {
    const invite = await call(server, 'POST', '/api/v1/invitations', {
      as: admin,
      body: { email: 'late@customer.example', role: 'viewer' },
    });
    await smtp.nextMessage();
    server.clock.advance(7 * 24 * 3600_000 + 1);
    const token = new URL(invite.json.link).searchParams.get('token');
    const accept = await call(server, 'POST', '/api/v1/invitations/accept', {
      body: { token, name: 'Late', password: 'a fine long password' },
    });
    expect(accept.status).toBe(401);
    server.clock.advance(-(7 * 24 * 3600_000 + 1));
  });

  it('refuses a manager who is not a manager, and an email that already signs in', async () => {
    const csm = await signedInMember(server, await newWorkspace(server), 'csm');
    const wrongManager = await call(server, 'POST', '/api/v1/invitations', {
      as: admin,
      body: { email: 'x@customer.example', role: 'csm', managerId: csm.userId },
    });
    expect(wrongManager.status).toBe(400);
    expect(wrongManager.json.errors).toEqual([
      { field: 'body.managerId', message: 'not an admin or manager of this workspace' },
    ]);
    const taken = await call(server, 'POST', '/api/v1/invitations', {
      as: admin,
      body: { email: manager.email, role: 'csm' },
    });
    expect(taken.status).toBe(409);
  });
});

describe('when the SMTP server is down', () => {
  it('keeps the invitation and says the email was not sent', async () => {
    const smtp = await startSmtpServer();
    const url = smtp.url;
    await smtp.close();
    const server = await startTestServer('sqlite', {
      mailer: createSmtpMailer(url, 'w@example.com'),
    });
    try {
      const admin = await signedInMember(server, await newWorkspace(server), 'admin');
      const invite = await call(server, 'POST', '/api/v1/invitations', {
        as: admin,
        body: { email: 'p@example.com', role: 'viewer' },
      });
      expect(invite.status).toBe(201);
      expect(invite.json.emailed).toBe(false);
      expect(server.logs.join('')).toContain('the invitation email could not be sent');
    } finally {
      await server.close();
    }
  });
});
