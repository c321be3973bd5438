import { type ProgramDefinition, programDefinitionSchema } from '@waymark/core';
import { afterAll, beforeAll } from 'vitest';
import type { Engine } from '../db/dialect.js';
import { newId } from '../db/ids.js';
import { insertProgram, insertProgramVersion } from '../programs/programs.repo.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';
import { T0 } from './factories.js';
import {
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from './test-server.js';

/**
 * Three contacts synced with status ok complete `sync`; two users active in a week then
 * complete `activation`; `review` is the CSM's.
 */
export const trackedProgram: ProgramDefinition = programDefinitionSchema.parse({
  key: 'tracked',
  name: 'Tracked onboarding',
  phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 90 }],
  milestones: [
    {
      key: 'sync',
      title: 'Contacts synced',
      phase: 'all',
      targetDay: 14,
      verification: ['auto'],
      criteria: 'event_count("Contact Synced", {"status": "ok"}) >= 3',
    },
    {
      key: 'activation',
      title: 'Team active',
      phase: 'all',
      targetDay: 25,
      dependsOn: ['sync'],
      verification: ['auto'],
      criteria: 'active_users(duration("168h")) >= 2',
    },
    {
      key: 'review',
      title: 'Business review',
      phase: 'all',
      targetDay: 55,
      dependsOn: ['activation'],
      verification: ['csm'],
    },
  ],
});

/** A program of one automatically verified milestone, `key`, complete when `criteria` hold. */
export function oneMilestoneProgram(
  program: { key: string; name: string; endDay: number },
  milestone: { key: string; title: string; criteria: string },
): ProgramDefinition {
  return programDefinitionSchema.parse({
    key: program.key,
    name: program.name,
    phases: [{ key: 'all', name: 'All', startDay: 0, endDay: program.endDay }],
    milestones: [{ ...milestone, phase: 'all', targetDay: 7, verification: ['auto'] }],
  });
}

export interface TrackingWorkspace {
  workspace: Workspace;
  admin: Member;
  writeKey: string;
}

/** A workspace with an admin, a write key and `program` published. */
export async function trackingWorkspace(
  server: TestServer,
  program: ProgramDefinition = trackedProgram,
): Promise<TrackingWorkspace> {
  const workspace = await newWorkspace(server);
  const admin = await signedInMember(server, workspace, 'admin');
  const key = await call(server, 'POST', '/api/v1/api-keys', {
    as: admin,
    body: { kind: 'write', name: 'product' },
  });
  if (key.status !== 201) throw new Error(`write key: ${key.status} ${key.text}`);
  const programId = newId();
  const { db } = server.database;
  await insertProgram(db, {
    id: programId,
    workspaceId: workspace.id,
    key: program.key,
    name: program.name,
    createdAt: T0,
    updatedAt: T0,
  });
  await insertProgramVersion(db, {
    id: newId(),
    workspaceId: workspace.id,
    programId,
    version: 1,
    status: 'published',
    definition: program,
    definitionHash: 'h1',
    publishedAt: T0,
    createdAt: T0,
  });
  return { workspace, admin, writeKey: key.json.token as string };
}

/**
 * For a suite: a test server on `engine` with a tracking workspace (`program` published), whose
 * own tracking is stopped so that the suite's trackers alone follow the events; closed after the
 * suite. `use()` returns them inside tests.
 */
export function serverWithoutTracking(
  engine: Engine,
  program: ProgramDefinition = trackedProgram,
): () => { server: TestServer; space: TrackingWorkspace } {
  let server: TestServer | undefined;
  let space: TrackingWorkspace | undefined;
  beforeAll(async () => {
    server = await startTestServer(engine);
    space = await trackingWorkspace(server, program);
    await server.app.tracker.stop();
  });
  afterAll(async () => server?.close());
  return () => {
    if (server === undefined || space === undefined) throw new Error('test server not ready');
    return { server, space };
  };
}

/** Basic auth as Segment's libraries send it: the write key as user, no password. */
export const basicAuth = (writeKey: string) =>
  `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
