import { randomBytes } from 'node:crypto';
import { type Actor, lockedUntil, recordFailure } from '@waymark/core';
import { recordAudit } from '../audit/record-audit.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { HttpProblem } from '../http/problem.js';
import {
  findCredentialsByEmail,
  insertUser,
  recordSignIn,
  setPasswordHash,
  type User,
} from '../users/users.repo.js';
import {
  countWorkspaces,
  findWorkspace,
  insertWorkspace,
  type Workspace,
  workspaceSettingsSchema,
} from '../workspaces/workspaces.repo.js';
import type { SignedIn } from './auth.schemas.js';
import type { Clock } from './clock.js';
import { findOpenInvitation, markInvitationAccepted } from './invitations.repo.js';
import { clearLoginFailures, findLoginFailures, saveLoginFailures } from './login-failures.repo.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import { insertSession, revokeSession } from './sessions.repo.js';
import { insertSetupToken, useSetupToken } from './setup-tokens.repo.js';
import { csrfTokenFor, hashToken, newToken } from './tokens.js';

export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface AuthDeps {
  db: Db;
  clock: Clock;
}

export interface StartedSession {
  /** The cookie value: shown to the browser once, stored only as its hash. */
  token: string;
  expiresAt: string;
  signedIn: SignedIn;
}

const wrongCredentials = () =>
  new HttpProblem(401, 'invalid-credentials', 'Sign-in failed', 'the email or password is wrong');

export function presentSignedIn(user: User, workspace: Workspace, csrfToken: string): SignedIn {
  return {
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
    workspace: { id: workspace.id, name: workspace.name, slug: workspace.slug },
    csrfToken,
  };
}

async function startSession(
  db: Db,
  at: string,
  user: User,
  workspace: Workspace,
): Promise<StartedSession> {
  const token = newToken('session');
  const expiresAt = new Date(Date.parse(at) + SESSION_TTL_MS).toISOString();
  await insertSession(db, {
    tokenHash: hashToken(token),
    workspaceId: user.workspaceId,
    userId: user.id,
    createdAt: at,
    expiresAt,
    lastSeenAt: at,
    revokedAt: null,
  });
  await recordSignIn(db, user.id, at);
  return { token, expiresAt, signedIn: presentSignedIn(user, workspace, csrfTokenFor(token)) };
}

export function createAuthService({ db, clock }: AuthDeps) {
  async function workspaceOf(id: string): Promise<Workspace> {
    const workspace = await findWorkspace(db, id);
    if (!workspace) throw new Error(`workspace ${id} is missing`);
    return workspace;
  }

  return {
    /**
     * Wrong passwords count per email (known or not); five within fifteen minutes
     * lock that email for fifteen minutes. The answers never tell whether an email exists.
     */
    async signIn(email: string, password: string): Promise<StartedSession> {
      const now = clock();
      const until = lockedUntil(await findLoginFailures(db, email), now);
      if (until) throw lockedProblem(until, now);

      const found = await findCredentialsByEmail(db, email);
      const valid = await verifyPassword(password, found?.passwordHash ?? (await decoyHash()));
      if (!found?.passwordHash || !valid || !found.user.active) {
        const state = recordFailure(await findLoginFailures(db, email), now);
        await saveLoginFailures(db, email, state);
        if (state.lockedUntil) throw lockedProblem(state.lockedUntil, now);
        throw wrongCredentials();
      }
      await clearLoginFailures(db, email);
      const workspace = await workspaceOf(found.user.workspaceId);
      return db.transaction().execute(async (trx) => {
        const started = await startSession(trx, now, found.user, workspace);
        await recordAudit(
          trx,
          workspace.id,
          now,
          { type: 'user', id: found.user.id },
          'user.signed_in',
          {
            type: 'user',
            id: found.user.id,
          },
        );
        return started;
      });
    },

    async signOut(sessionTokenHash: string, workspaceId: string, userId: string): Promise<void> {
      const now = clock();
      await db.transaction().execute(async (trx) => {
        await revokeSession(trx, sessionTokenHash, now);
        await recordAudit(trx, workspaceId, now, { type: 'user', id: userId }, 'user.signed_out', {
          type: 'user',
          id: userId,
        });
      });
    },

    /** First start: the workspace and its first admin, in one transaction. */
    async createWorkspaceWithAdmin(input: {
      workspaceName: string;
      timeZone: string;
      name: string;
      email: string;
      password: string;
    }): Promise<{ workspace: Workspace; user: User }> {
      const now = clock();
      const passwordHash = await hashPassword(input.password);
      return db.transaction().execute(async (trx) => {
        const workspace: Workspace = {
          id: newId(),
          slug: slugOf(input.workspaceName),
          name: input.workspaceName,
          timeZone: input.timeZone,
          settings: workspaceSettingsSchema.parse({}),
          createdAt: now,
          updatedAt: now,
        };
        await insertWorkspace(trx, workspace);
        await recordAudit(
          trx,
          workspace.id,
          now,
          SYSTEM,
          'workspace.created',
          { type: 'workspace', id: workspace.id },
          { after: workspace },
        );
        const person = {
          workspaceId: workspace.id,
          email: input.email,
          name: input.name,
          role: 'admin' as const,
          managerId: null,
        };
        const user = await addPerson(trx, now, person, passwordHash, SYSTEM);
        return { workspace, user };
      });
    },

    /** Another admin in an existing workspace (`waymark admin create --workspace`). */
    async addAdmin(
      workspaceId: string,
      input: { name: string; email: string; password: string },
    ): Promise<User> {
      const now = clock();
      const passwordHash = await hashPassword(input.password);
      const person = {
        workspaceId,
        email: input.email,
        name: input.name,
        role: 'admin' as const,
        managerId: null,
      };
      return db
        .transaction()
        .execute((trx) => addPerson(trx, now, person, passwordHash, SYSTEM, { via: 'cli' }));
    },

    /** A one-time link for the first admin, when the environment names none. */
    async createSetupToken(): Promise<string> {
      const now = clock();
      const token = newToken('setup');
      await insertSetupToken(
        db,
        hashToken(token),
        now,
        new Date(Date.parse(now) + SETUP_TOKEN_TTL_MS).toISOString(),
      );
      return token;
    },

    async setUp(input: {
      token: string;
      workspaceName: string;
      timeZone: string;
      name: string;
      email: string;
      password: string;
    }): Promise<StartedSession> {
      const now = clock();
      if (
        (await countWorkspaces(db)) > 0 ||
        !(await useSetupToken(db, hashToken(input.token), now))
      ) {
        throw new HttpProblem(
          401,
          'invalid-setup-link',
          'Set-up link not valid',
          'the set-up link is unknown, used or expired',
        );
      }
      const { workspace, user } = await this.createWorkspaceWithAdmin(input);
      return startSession(db, now, user, workspace);
    },

    async acceptInvitation(input: {
      token: string;
      name: string;
      password: string;
    }): Promise<StartedSession> {
      const now = clock();
      const invitation = await findOpenInvitation(db, hashToken(input.token), now);
      if (!invitation) {
        throw new HttpProblem(
          401,
          'invalid-invitation',
          'Invitation not valid',
          'the invitation is unknown, used, revoked or expired',
        );
      }
      const passwordHash = await hashPassword(input.password);
      const workspace = await workspaceOf(invitation.workspaceId);
      return db.transaction().execute(async (trx) => {
        if (!(await markInvitationAccepted(trx, invitation.id, now))) {
          throw new HttpProblem(
            401,
            'invalid-invitation',
            'Invitation not valid',
            'the invitation was used already',
          );
        }
        const person = {
          workspaceId: invitation.workspaceId,
          email: invitation.email,
          name: input.name,
          role: invitation.role,
          managerId: invitation.managerId,
        };
        const user = await addPerson(trx, now, person, passwordHash, 'self', {
          invitationId: invitation.id,
          invitedBy: invitation.invitedBy,
        });
        return startSession(trx, now, user, workspace);
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

const SYSTEM: Actor = { type: 'system', id: null };

/**
 * A new person with a password, in the caller's transaction: an email that already
 * signs in is refused, and the creation is audited (by `actor`, or by the person
 * themselves when they accept an invitation).
 */
async function addPerson(
  trx: Db,
  now: string,
  person: Pick<User, 'workspaceId' | 'email' | 'name' | 'role' | 'managerId'>,
  passwordHash: string,
  actor: Actor | 'self',
  context?: Record<string, unknown>,
): Promise<User> {
  if (await findCredentialsByEmail(trx, person.email)) {
    throw new HttpProblem(
      409,
      'email-taken',
      'Email already in use',
      `${person.email} already has a sign-in`,
    );
  }
  const user: User = {
    id: newId(),
    ...person,
    email: person.email.toLowerCase(),
    active: true,
    createdAt: now,
    updatedAt: now,
  };
  await insertUser(trx, user);
  await setPasswordHash(trx, user.id, passwordHash, now);
  const by = actor === 'self' ? { type: 'user' as const, id: user.id } : actor;
  await recordAudit(
    trx,
    user.workspaceId,
    now,
    by,
    'user.created',
    { type: 'user', id: user.id },
    {
      after: user,
      ...(context && { context }),
    },
  );
  return user;
}

function lockedProblem(until: string, now: string) {
  const seconds = Math.max(1, Math.ceil((Date.parse(until) - Date.parse(now)) / 1000));
  return new HttpProblem(
    429,
    'sign-in-locked',
    'Too many failed sign-ins',
    `sign-in for this email is paused until ${until}`,
    {
      retryAfterSeconds: seconds,
    },
  );
}

function slugOf(name: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${base || 'workspace'}-${randomBytes(3).toString('hex')}`;
}
