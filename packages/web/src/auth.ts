/** Waymark's sign-in endpoints, typed. Each successful call remembers the CSRF token. */
import { ApiProblem, api, setCsrfToken } from './api.ts';

/** At least this many characters; the server enforces the same rule. */
export const PASSWORD_MIN_LENGTH = 12;

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface SessionWorkspace {
  id: string;
  name: string;
  slug: string;
}

/** What login, setup, invitation acceptance and the session endpoint all answer. */
export interface Session {
  user: SessionUser;
  workspace: SessionWorkspace;
  csrfToken: string;
}

function remember(session: Session): Session {
  setCsrfToken(session.csrfToken);
  return session;
}

export async function getSession(): Promise<Session> {
  return remember(await api.get<Session>('/api/v1/auth/session'));
}

export async function login(input: { email: string; password: string }): Promise<Session> {
  return remember(await api.post<Session>('/api/v1/auth/login', input));
}

/** Ends the session; a session that had already ended (401) counts as signed out too. */
export async function logout(): Promise<void> {
  try {
    await api.post<undefined>('/api/v1/auth/logout');
  } catch (error) {
    if (!(error instanceof ApiProblem && error.status === 401)) throw error;
  }
  setCsrfToken(null);
}

export interface SetupInput {
  token: string;
  workspaceName: string;
  timeZone: string;
  name: string;
  email: string;
  password: string;
}

export async function setUpWorkspace(input: SetupInput): Promise<Session> {
  return remember(await api.post<Session>('/api/v1/setup', input));
}

export interface AcceptInvitationInput {
  token: string;
  name: string;
  password: string;
}

export async function acceptInvitation(input: AcceptInvitationInput): Promise<Session> {
  return remember(await api.post<Session>('/api/v1/invitations/accept', input));
}
