import {
  type Actor,
  checkProgramDefinition,
  checkProgramYaml,
  diffProgramVersions,
  isDone,
  migrateProgress,
  type ProgramDefinition,
  type ProgramIssue,
  type ProgramVersionDiff,
} from '@waymark/core';
import { recordAudit } from '../audit/record-audit.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/errors.js';
import { newId } from '../db/ids.js';
import { listProgress, saveProgress } from '../enrollments/progress.repo.js';
import { HttpProblem, invalidField, notFound } from '../http/problem.js';
import { requestRebuild } from '../tracking/tracking.repo.js';
import { definitionHash } from './definition-hash.js';
import {
  deleteProgressRows,
  listActiveEnrollmentsOnVersion,
  repinEnrollment,
} from './enrollment-migration.repo.js';
import {
  findLatestVersion,
  findProgramByKey,
  findVersionByNumber,
  insertProgram,
  insertProgramVersion,
  type Program,
  type ProgramVersion,
  publishProgramVersion,
  renameProgram,
  setProgramArchived,
  updateDraftDefinition,
} from './programs.repo.js';

/** A program as sent: the camelCase document as JSON, or the same as YAML text. */
export type ProgramSource = { definition: unknown } | { yaml: string; file?: string };

/** One fault of a program, named by field and, for YAML, placed at its line and column. */
export interface ProgramFieldError {
  field: string;
  message: string;
  line?: number;
  column?: number;
}

/** `['milestones', 2, 'dependsOn', 0]` → `milestones[2].dependsOn[0]`. */
export function fieldPath(path: readonly (string | number)[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

const under = (root: string, path: readonly (string | number)[]) =>
  path.length === 0 ? root : `${root}.${fieldPath(path)}`;

export function invalidProgram(errors: ProgramFieldError[]): HttpProblem {
  return new HttpProblem(
    400,
    'validation',
    'The program is invalid',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    { errors },
  );
}

/** Parses and validates a program with core; a 400 listing every fault otherwise. */
export function readProgramSource(source: ProgramSource): ProgramDefinition {
  if ('yaml' in source) {
    const checked = checkProgramYaml(source.yaml, source.file ?? 'yaml');
    if (checked.program) return checked.program;
    throw invalidProgram(
      checked.errors.map((issue) => ({
        field: under('yaml', issue.path),
        message: issue.message,
        line: issue.line,
        column: issue.column,
      })),
    );
  }
  const checked = checkProgramDefinition(source.definition);
  if (checked.program) return checked.program;
  throw invalidProgram(checked.errors.map((issue: ProgramIssue) => definitionError(issue)));
}

function definitionError(issue: ProgramIssue): ProgramFieldError {
  return {
    field: under('definition', issue.path),
    message: issue.message,
    // A fault inside a criterion is placed within the expression.
    ...(issue.position && { line: issue.position.line, column: issue.position.column }),
  };
}

export interface Change {
  workspaceId: string;
  actor: Actor;
  at: string;
  /** Where the change came from, e.g. `{ via: 'cli' }`; kept with every audit event. */
  context?: Record<string, unknown>;
}

export type SaveOutcome = 'created' | 'unchanged' | 'draft_updated' | 'draft_created';

export interface SavedProgram {
  program: Program;
  version: ProgramVersion;
  outcome: SaveOutcome;
}

export const presentVersion = ({
  workspaceId: _w,
  programId: _p,
  id: _id,
  definition: _d,
  ...version
}: ProgramVersion) => version;

const programNotFound = () => notFound('program in this workspace');

const programExists = (program: Pick<Program, 'key' | 'archivedAt'>) =>
  new HttpProblem(
    409,
    'conflict',
    'Program exists',
    program.archivedAt === null
      ? `a program with the key ${program.key} exists: POST /api/v1/programs/${program.key}/versions to change it`
      : `a program with the key ${program.key} exists, archived: POST /api/v1/programs/${program.key}/unarchive to use it again`,
  );

/**
 * An archived program keeps its versions and its enrollments, but takes nothing new: `what`
 * says what was refused ("take enrollments", "take new versions", ...).
 */
export function refuseIfArchived(program: Program, what: string): void {
  if (program.archivedAt === null) return;
  throw new HttpProblem(
    409,
    'program-archived',
    'Program archived',
    `program ${program.key} was archived at ${program.archivedAt} and does not ${what}: POST /api/v1/programs/${program.key}/unarchive first`,
    { archivedAt: program.archivedAt },
  );
}

/**
 * Saves a definition, idempotently. A new program starts at version 1, a draft; a definition
 * whose canonical hash equals the latest version's changes nothing; a draft is edited in place
 * until it is published; after that, a change becomes the next version, a draft again.
 * `mode` says whether the program must be new (`create`), must exist (`version`) or either
 * (`apply`). Runs in the caller's transaction.
 */
export async function saveProgram(
  trx: Db,
  change: Change,
  definition: ProgramDefinition,
  mode: 'create' | 'version' | 'apply',
): Promise<SavedProgram> {
  const { workspaceId, actor, at } = change;
  const context = change.context && { context: change.context };
  const hash = definitionHash(definition);
  const existing = await findProgramByKey(trx, workspaceId, definition.key);

  if (!existing) {
    if (mode === 'version') throw programNotFound();
    const program: Program = {
      id: newId(),
      workspaceId,
      key: definition.key,
      name: definition.name,
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
    };
    const version = newVersion(program, 1, definition, hash, at);
    try {
      await insertProgram(trx, program);
    } catch (error) {
      // Another transaction created the same key since we looked (PostgreSQL lets both look;
      // SQLite's write lock serializes them): the same conflict as if it had been there before.
      // Nothing more may run in this transaction: PostgreSQL has aborted it.
      if (isUniqueViolation(error)) throw programExists(program);
      throw error;
    }
    await insertProgramVersion(trx, version);
    const { workspaceId: _w, ...presented } = program;
    await recordAudit(trx, workspaceId, at, actor, 'program.created', entityOf(program), {
      after: presented,
      ...context,
    });
    await recordAudit(
      trx,
      workspaceId,
      at,
      actor,
      'program_version.created',
      versionEntity(version),
      {
        after: { programKey: program.key, ...presentVersion(version), definition },
        ...context,
      },
    );
    return { program, version, outcome: 'created' };
  }
  if (mode === 'create') throw programExists(existing);

  const latest = await findLatestVersion(trx, workspaceId, existing.id);
  if (!latest) throw new Error(`program ${existing.id} has no version`);
  // Re-applying an archived program's unchanged file changes nothing, so it is no fault.
  if (latest.definitionHash === hash)
    return { program: existing, version: latest, outcome: 'unchanged' };
  refuseIfArchived(existing, 'take new versions');

  let program = existing;
  if (existing.name !== definition.name) {
    await renameProgram(trx, workspaceId, existing.id, definition.name, at);
    program = { ...existing, name: definition.name, updatedAt: at };
  }
  if (latest.status === 'draft') {
    if (!(await updateDraftDefinition(trx, workspaceId, latest.id, definition, hash)))
      throw new Error(`draft ${latest.id} was published meanwhile`);
    const version: ProgramVersion = { ...latest, definition, definitionHash: hash };
    await recordAudit(
      trx,
      workspaceId,
      at,
      actor,
      'program_version.updated',
      versionEntity(version),
      {
        before: {
          programKey: program.key,
          ...presentVersion(latest),
          definition: latest.definition,
        },
        after: { programKey: program.key, ...presentVersion(version), definition },
        ...context,
      },
    );
    return { program, version, outcome: 'draft_updated' };
  }
  const version = newVersion(program, latest.version + 1, definition, hash, at);
  await insertProgramVersion(trx, version);
  await recordAudit(
    trx,
    workspaceId,
    at,
    actor,
    'program_version.created',
    versionEntity(version),
    {
      after: { programKey: program.key, ...presentVersion(version), definition },
      ...context,
    },
  );
  return { program, version, outcome: 'draft_created' };
}

function newVersion(
  program: Program,
  number: number,
  definition: ProgramDefinition,
  hash: string,
  at: string,
): ProgramVersion {
  return {
    id: newId(),
    workspaceId: program.workspaceId,
    programId: program.id,
    version: number,
    status: 'draft',
    definition,
    definitionHash: hash,
    publishedAt: null,
    createdAt: at,
  };
}

const entityOf = (program: Program) => ({ type: 'program', id: program.id });
const versionEntity = (version: ProgramVersion) => ({ type: 'program_version', id: version.id });

export async function requireProgram(db: Db, workspaceId: string, key: string): Promise<Program> {
  const program = await findProgramByKey(db, workspaceId, key);
  if (!program) throw programNotFound();
  return program;
}

export async function requireVersion(
  db: Db,
  program: Program,
  version: number,
): Promise<ProgramVersion> {
  const found = await findVersionByNumber(db, program.workspaceId, program.id, version);
  if (!found) throw notFound(`version ${version} of program ${program.key}`);
  return found;
}

/**
 * Publishes a draft: from now on new enrollments use it. A published version never changes,
 * so publishing it again is a conflict. Runs in the caller's transaction.
 */
export async function publishVersion(
  trx: Db,
  change: Change,
  programKey: string,
  number: number,
): Promise<{ program: Program; version: ProgramVersion }> {
  const program = await requireProgram(trx, change.workspaceId, programKey);
  const before = await requireVersion(trx, program, number);
  // Publishing would offer the draft to new enrollments, which an archived program refuses.
  if (before.status === 'draft') refuseIfArchived(program, 'publish versions');
  if (!(await publishProgramVersion(trx, change.workspaceId, before.id, change.at))) {
    throw new HttpProblem(
      409,
      'conflict',
      'Version already published',
      `version ${number} of ${programKey} was published at ${before.publishedAt}; published versions never change`,
    );
  }
  const version: ProgramVersion = { ...before, status: 'published', publishedAt: change.at };
  await recordAudit(
    trx,
    change.workspaceId,
    change.at,
    change.actor,
    'program_version.published',
    versionEntity(version),
    {
      before: { programKey, ...presentVersion(before) },
      after: { programKey, ...presentVersion(version) },
      ...(change.context && { context: change.context }),
    },
  );
  return { program, version };
}

/**
 * Archives (`archived: true`) or unarchives a program. Nothing is deleted: its versions and
 * enrollments stay as they are. Asking for the state it is already in changes nothing and
 * records nothing (`changed: false`). Runs in the caller's transaction.
 */
export async function setArchived(
  trx: Db,
  change: Change,
  programKey: string,
  archived: boolean,
): Promise<{ program: Program; changed: boolean }> {
  const { workspaceId, at } = change;
  const before = await requireProgram(trx, workspaceId, programKey);
  if ((before.archivedAt !== null) === archived) return { program: before, changed: false };
  const archivedAt = archived ? at : null;
  if (!(await setProgramArchived(trx, workspaceId, before.id, archivedAt, at))) {
    // Another request did the same meanwhile.
    return { program: await requireProgram(trx, workspaceId, programKey), changed: false };
  }
  const program: Program = { ...before, archivedAt, updatedAt: at };
  const { workspaceId: _b, ...presentedBefore } = before;
  const { workspaceId: _a, ...presentedAfter } = program;
  await recordAudit(
    trx,
    workspaceId,
    at,
    change.actor,
    archived ? 'program.archived' : 'program.unarchived',
    entityOf(program),
    {
      before: presentedBefore,
      after: presentedAfter,
      ...(change.context && { context: change.context }),
    },
  );
  return { program, changed: true };
}

export interface EnrollmentMigration {
  enrollmentId: string;
  accountId: string;
  milestonesAdded: string[];
  milestonesRemoved: string[];
  /** Completed or waived milestones carried over by key. */
  completionsKept: number;
}

export interface ProgramMigration {
  programKey: string;
  from: number;
  to: number;
  diff: ProgramVersionDiff;
  affectedEnrollments: number;
  applied: boolean;
  enrollments: EnrollmentMigration[];
}

/**
 * What moving the active enrollments pinned to `from` onto `to` would change; with `apply`,
 * does it: re-pins each one and rebuilds its progress (core's migrateProgress), one audit event
 * per enrollment with the dropped milestones in `before`. Runs in the caller's transaction.
 */
export async function migrateEnrollments(
  trx: Db,
  change: Change,
  programKey: string,
  request: { from: number; to: number; apply: boolean },
): Promise<ProgramMigration> {
  const { workspaceId, at } = change;
  const program = await requireProgram(trx, workspaceId, programKey);
  if (request.from === request.to) throw invalidField('body.to', 'must differ from "from"');
  const from = await findVersionByNumber(trx, workspaceId, program.id, request.from);
  if (!from) throw invalidField('body.from', `${programKey} has no version ${request.from}`);
  const to = await findVersionByNumber(trx, workspaceId, program.id, request.to);
  if (!to) throw invalidField('body.to', `${programKey} has no version ${request.to}`);
  if (request.apply && to.status !== 'published') {
    throw invalidField(
      'body.to',
      `version ${to.version} is a draft: publish it before moving enrollments to it`,
    );
  }

  const pinned = await listActiveEnrollmentsOnVersion(trx, workspaceId, from.id);
  const enrollments: EnrollmentMigration[] = [];
  for (const enrollment of pinned) {
    const progress = await listProgress(trx, workspaceId, enrollment.id);
    const migrated = migrateProgress(to.definition, progress, at, { segment: enrollment.segment });
    const removedKeys = migrated.removed.map((row) => row.milestoneKey);
    enrollments.push({
      enrollmentId: enrollment.id,
      accountId: enrollment.accountId,
      milestonesAdded: migrated.added,
      milestonesRemoved: removedKeys,
      completionsKept: migrated.progress.filter((row) => isDone(row.status)).length,
    });
    if (!request.apply) continue;
    await repinEnrollment(trx, workspaceId, enrollment.id, to.id, at);
    await deleteProgressRows(trx, workspaceId, enrollment.id, removedKeys);
    await saveProgress(trx, workspaceId, enrollment.id, migrated.progress, at);
    // The new version's criteria are evaluated over the account's events again.
    await requestRebuild(trx, workspaceId, [enrollment.id], at);
    await recordAudit(
      trx,
      workspaceId,
      at,
      change.actor,
      'enrollment.migrated',
      { type: 'enrollment', id: enrollment.id },
      {
        before: {
          programKey,
          version: from.version,
          programVersionId: from.id,
          removedMilestones: migrated.removed,
        },
        after: {
          programKey,
          version: to.version,
          programVersionId: to.id,
          addedMilestones: migrated.added,
        },
        ...(change.context && { context: change.context }),
      },
    );
  }
  return {
    programKey,
    from: from.version,
    to: to.version,
    diff: diffProgramVersions(from.definition, to.definition),
    affectedEnrollments: enrollments.length,
    applied: request.apply,
    enrollments,
  };
}
