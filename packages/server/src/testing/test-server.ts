import { PassThrough } from 'node:stream';
import type { Role } from '@waymark/core';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../auth/passwords.js';
import type { Engine } from '../db/dialect.js';
import { buildServer } from '../http/app.js';
import type { Mailer } from '../mail/mailer.js';
import { setPasswordHash } from '../users/users.repo.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';
import { createTestDatabase, type TestDatabase } from './engines.js';
import { makeUser, makeWorkspace } from './factories.js';

/** A clock the test moves by hand. */
export function manualClock(start = '2026-03-02T15:00:00.000Z') {
  let now = Date.parse(start);
  const clock = () => new Date(now).toISOString();
  clock.advance = (ms: number) => {
    now += ms;
  };
  return clock;
}

export interface TestServer {
  app: FastifyInstance;
  url: string;
  database: TestDatabase;
  clock: ReturnType<typeof manualClock>;
  /** Every log line the server wrote. */
  logs: string[];
  close(): Promise<void>;
}

/** The real server on a loopback port over a fresh database of the given engine. */
export async function startTestServer(
  engine: Engine,
  options: {
    signInRateLimit?: number;
    publicUrl?: string;
    mailer?: Mailer;
    /** Ingestion requests per second per write key (the server's default otherwise). */
    ingestRateLimit?: number;
  } = {},
): Promise<TestServer> {
  const database = await createTestDatabase(engine);
  const clock = manualClock();
  const logs: string[] = [];
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const app = await buildServer({
    database,
    clock,
    logLevel: 'debug',
    logStream,
    webRoot: '/nonexistent',
    signInRateLimit: options.signInRateLimit ?? 10_000,
    ...(options.publicUrl && { publicUrl: options.publicUrl }),
    ...(options.mailer && { mailer: options.mailer }),
    ...(options.ingestRateLimit !== undefined && { ingestRateLimit: options.ingestRateLimit }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    database,
    clock,
    logs,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export interface Response {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  json: any;
}

export interface Credentials {
  cookie?: string;
  csrfToken?: string;
  bearer?: string;
}

/** One HTTP call over loopback, with a session cookie and CSRF header or a bearer key. */
export async function call(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  {
    body,
    as,
    headers = {},
  }: { body?: unknown; as?: Credentials; headers?: Record<string, string> } = {},
): Promise<Response> {
  const sent: Record<string, string> = { ...headers };
  if (body !== undefined) sent['content-type'] = 'application/json';
  if (as?.cookie) sent.cookie = as.cookie;
  if (as?.csrfToken) sent['x-csrf-token'] = as.csrfToken;
  if (as?.bearer) sent.authorization = `Bearer ${as.bearer}`;
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: sent,
    ...(body !== undefined && { body: JSON.stringify(body) }),
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

export const PASSWORD = 'correct horse battery staple';

export interface Member extends Credentials {
  userId: string;
  email: string;
  role: Role;
  cookie: string;
  csrfToken: string;
}

/** A person of the given role with a password, signed in over HTTP. */
export async function signedInMember(
  server: TestServer,
  workspace: Workspace,
  role: Role,
): Promise<Member> {
  const { db } = server.database;
  const user = await makeUser(db, workspace.id, role);
  await setPasswordHash(db, user.id, await hashPassword(PASSWORD), user.createdAt);
  const response = await call(server, 'POST', '/api/v1/auth/login', {
    body: { email: user.email, password: PASSWORD },
  });
  if (response.status !== 200)
    throw new Error(`sign-in failed: ${response.status} ${response.text}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return {
    userId: user.id,
    email: user.email,
    role,
    cookie,
    csrfToken: response.json.csrfToken as string,
  };
}

export async function newWorkspace(server: TestServer): Promise<Workspace> {
  return makeWorkspace(server.database.db);
}
