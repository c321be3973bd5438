import type { ProgramDefinition, Role } from '@waymark/core';
import { sql } from 'kysely';
import { type Account, insertAccount } from '../accounts/accounts.repo.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import type { Enrollment } from '../enrollments/enrollments.repo.js';
import { insertUser, type User } from '../users/users.repo.js';
import {
  insertWorkspace,
  type Workspace,
  workspaceSettingsSchema,
} from '../workspaces/workspaces.repo.js';

export const T0 = '2026-03-02T15:00:00.000Z';

/** A fresh workspace per test: tests share one database without seeing each other's rows. */
export async function makeWorkspace(
  db: Db,
  overrides: Partial<Workspace> = {},
): Promise<Workspace> {
  const id = newId();
  const workspace: Workspace = {
    id,
    slug: `ws-${id.slice(0, 8)}`,
    name: 'Acme Onboarding',
    timeZone: 'America/New_York',
    settings: workspaceSettingsSchema.parse({}),
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
  await insertWorkspace(db, workspace);
  return workspace;
}

/**
 * A workspace as stored before migration 0012 numbered them (no `ref`), for tests of the
 * migrations up to it.
 */
export async function makeWorkspaceBeforeRefs(
  db: Db,
  { id = newId(), createdAt = T0 }: { id?: string; createdAt?: string } = {},
): Promise<string> {
  await sql`insert into workspaces (id, slug, name, time_zone, settings, created_at, updated_at)
    values (${id}, ${`ws-${id}`}, 'Acme Onboarding', 'UTC', '{}', ${createdAt}, ${createdAt})`.execute(
    db,
  );
  return id;
}

export async function makeUser(
  db: Db,
  workspaceId: string,
  role: Role = 'csm',
  overrides: Partial<User> = {},
) {
  const id = newId();
  const user: User = {
    id,
    workspaceId,
    email: `${role}-${id.slice(0, 8)}@example.com`,
    name: `A ${role}`,
    role,
    managerId: null,
    active: true,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
  await insertUser(db, user);
  return user;
}

/** An account of `workspaceId`, not stored: what `makeAccount` stores. */
export function accountOf(workspaceId: string, overrides: Partial<Account> = {}): Account {
  const id = overrides.id ?? newId();
  return {
    id,
    workspaceId,
    externalId: `org_${id.slice(0, 8)}`,
    name: `Customer ${id.slice(0, 4)}`,
    segment: 'Mid-Market',
    ownerUserId: null,
    timeZone: null,
    traits: {},
    outcome: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export async function makeAccount(db: Db, workspaceId: string, overrides: Partial<Account> = {}) {
  const account = accountOf(workspaceId, overrides);
  await insertAccount(db, account);
  return account;
}

/** An active enrollment started at T0, not stored. */
export function enrollmentOf(
  of: Pick<Enrollment, 'workspaceId' | 'accountId' | 'programVersionId'>,
  overrides: Partial<Enrollment> = {},
): Enrollment {
  return {
    id: newId(),
    ...of,
    startedAt: T0,
    goLiveDate: null,
    ownerUserId: null,
    variant: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** kickoff → integration → training, a small program exercising dependencies. */
export const threeStepProgram: ProgramDefinition = {
  key: 'three-step',
  name: 'Three step onboarding',
  schedule: { dayCounting: 'calendar' },
  phases: [{ key: 'foundation', name: 'Foundation', startDay: 0, endDay: 30 }],
  milestones: [
    {
      key: 'kickoff',
      title: 'Kickoff held',
      phase: 'foundation',
      targetDay: 3,
      dependsOn: [],
      owner: 'csm',
      verification: ['csm'],
    },
    {
      key: 'integration',
      title: 'Primary integration connected',
      phase: 'foundation',
      targetDay: 14,
      dependsOn: ['kickoff'],
      owner: 'customer',
      verification: ['auto'],
      criteria: 'event_count("Contact Synced") >= 100',
    },
    {
      key: 'training',
      title: 'Team trained',
      phase: 'foundation',
      targetDay: 18,
      dependsOn: ['integration'],
      owner: 'csm',
      verification: ['csm', 'client'],
    },
  ],
};
