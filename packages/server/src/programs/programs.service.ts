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
import { newId } from '../db/ids.js';
import { listProgress, saveProgress } from '../enrollments/progress.repo.js';
import { HttpProblem, invalidField, notFound } from '../http/problem.js';
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
    };
    const version = newVersion(program, 1, definition, hash, at);
    await insertProgram(trx, program);
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
  if (mode === 'create') {
    throw new HttpProblem(
      409,
      'conflict',
      'Program exists',
      `a program with the key ${definition.key} exists: POST /api/v1/programs/${definition.key}/versions to change it`,
    );
  }

  const latest = await findLatestVersion(trx, workspaceId, existing.id);
  if (!latest) throw new Error(`program ${existing.id} has no version`);
  if (latest.definitionHash === hash)
    return { program: existing, version: latest, outcome: 'unchanged' };

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
