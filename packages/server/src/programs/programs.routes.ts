import { serializeProgramYaml } from '@waymark/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../auth/access.js';
import type { Clock } from '../auth/clock.js';
import { actorOf } from '../auth/principal.js';
import type { Db } from '../db/database.js';
import { invalidField } from '../http/problem.js';
import {
  listPrograms,
  listProgramVersions,
  listVersionSummaries,
  type Program,
  type ProgramVersion,
} from './programs.repo.js';
import {
  definitionSchema,
  migrationBodySchema,
  migrationSchema,
  problems,
  programDetailSchema,
  programListItemSchema,
  programListQuery,
  programParams,
  programSourceSchema,
  programYamlSchema,
  savedVersionSchema,
  versionParams,
  versionSummarySchema,
} from './programs.schemas.js';
import {
  type Change,
  migrateEnrollments,
  type ProgramSource,
  presentVersion,
  publishVersion,
  readProgramSource,
  requireProgram,
  requireVersion,
  type SavedProgram,
  saveProgram,
  setArchived,
} from './programs.service.js';

type Summary = Pick<ProgramVersion, 'version' | 'status'>;

const presentProgram = ({ workspaceId: _w, ...program }: Program) => program;

function withVersions(program: Program, versions: Summary[]) {
  const published = versions.filter((v) => v.status === 'published');
  return {
    ...presentProgram(program),
    latestVersion: Math.max(0, ...versions.map((v) => v.version)),
    latestPublishedVersion: published.length ? Math.max(...published.map((v) => v.version)) : null,
    draftVersion: versions.find((v) => v.status === 'draft')?.version ?? null,
  };
}

const presentSaved = ({
  program,
  version,
  outcome,
}: SavedProgram): z.infer<typeof savedVersionSchema> => ({
  program: presentProgram(program),
  version: presentVersion(version),
  changed: outcome !== 'unchanged',
  outcome,
});

async function detailOf(db: Db, program: Program) {
  const versions = await listProgramVersions(db, program.workspaceId, program.id);
  return { ...withVersions(program, versions), versions: versions.map(presentVersion) };
}

function sourceOf(body: { definition?: Record<string, unknown>; yaml?: string }): ProgramSource {
  return body.yaml !== undefined ? { yaml: body.yaml } : { definition: body.definition };
}

export function programsRoutes({ db, clock }: { db: Db; clock: Clock }): FastifyPluginAsyncZod {
  return async (app) => {
    const changeBy = (request: Parameters<typeof principalOf>[0]): Change => {
      const principal = principalOf(request);
      return { workspaceId: principal.workspaceId, actor: actorOf(principal), at: clock() };
    };

    app.get(
      '/api/v1/programs',
      {
        config: { access: { permission: 'programs:read' } },
        schema: {
          tags: ['programs'],
          summary:
            'Programs, with their latest, published and draft versions; archived ones only on request',
          querystring: programListQuery,
          response: { 200: z.object({ programs: z.array(programListItemSchema) }), ...problems },
        },
      },
      async (request) => {
        const { workspaceId } = principalOf(request);
        const [programs, versions] = await Promise.all([
          listPrograms(db, workspaceId, request.query.archived),
          listVersionSummaries(db, workspaceId),
        ]);
        return {
          programs: programs.map((program) =>
            withVersions(
              program,
              versions.filter((v) => v.programId === program.id),
            ),
          ),
        };
      },
    );

    app.post(
      '/api/v1/programs',
      {
        config: { access: { permission: 'programs:write' } },
        schema: {
          tags: ['programs'],
          summary: 'Create a program from its definition (JSON or YAML); version 1 is a draft',
          body: programSourceSchema,
          response: { 201: savedVersionSchema, ...problems },
        },
      },
      async (request, reply) => {
        const definition = readProgramSource(sourceOf(request.body));
        const change = changeBy(request);
        const saved = await db
          .transaction()
          .execute((trx) => saveProgram(trx, change, definition, 'create'));
        return reply.status(201).send(presentSaved(saved));
      },
    );

    app.get(
      '/api/v1/programs/:programKey',
      {
        config: { access: { permission: 'programs:read' } },
        schema: {
          tags: ['programs'],
          summary: 'One program and its versions',
          params: programParams,
          response: { 200: programDetailSchema, ...problems },
        },
      },
      async (request) => {
        const { workspaceId } = principalOf(request);
        const program = await requireProgram(db, workspaceId, request.params.programKey);
        return detailOf(db, program);
      },
    );

    app.get(
      '/api/v1/programs/:programKey/versions/:version',
      {
        config: { access: { permission: 'programs:read' } },
        schema: {
          tags: ['programs'],
          summary: 'One version: its definition as JSON, or with ?format=yaml as YAML',
          params: versionParams,
          querystring: z.object({ format: z.enum(['json', 'yaml']).default('json') }),
          response: {
            // One schema per media type: Fastify picks the serializer by the reply's type.
            200: {
              description: 'The version as JSON, or its definition as YAML with ?format=yaml',
              content: {
                'application/json': {
                  schema: versionSummarySchema.extend({
                    programKey: z.string(),
                    definition: definitionSchema,
                  }),
                },
                'application/yaml': { schema: programYamlSchema },
              },
            },
            ...problems,
          },
        },
      },
      async (request, reply) => {
        const { workspaceId } = principalOf(request);
        const program = await requireProgram(db, workspaceId, request.params.programKey);
        const version = await requireVersion(db, program, request.params.version);
        if (request.query.format === 'yaml') {
          return reply
            .type('application/yaml; charset=utf-8')
            .send(serializeProgramYaml(version.definition));
        }
        return {
          programKey: program.key,
          ...presentVersion(version),
          definition: version.definition,
        };
      },
    );

    app.post(
      '/api/v1/programs/:programKey/versions',
      {
        config: { access: { permission: 'programs:write' } },
        schema: {
          tags: ['programs'],
          summary:
            'Save a definition: unchanged (200), the draft edited in place (200), or a new draft version (201)',
          params: programParams,
          body: programSourceSchema,
          response: { 200: savedVersionSchema, 201: savedVersionSchema, ...problems },
        },
      },
      async (request, reply) => {
        const { programKey } = request.params;
        const { workspaceId } = principalOf(request);
        // Another workspace learns nothing, not even whether its definition is valid.
        await requireProgram(db, workspaceId, programKey);
        const source = sourceOf(request.body);
        const definition = readProgramSource(source);
        if (definition.key !== programKey) {
          throw invalidField(
            'yaml' in source ? 'yaml.key' : 'definition.key',
            `is "${definition.key}", but this is program "${programKey}"`,
          );
        }
        const change = changeBy(request);
        const saved = await db
          .transaction()
          .execute((trx) => saveProgram(trx, change, definition, 'version'));
        return reply
          .status(saved.outcome === 'draft_created' ? 201 : 200)
          .send(presentSaved(saved));
      },
    );

    app.post(
      '/api/v1/programs/:programKey/versions/:version/publish',
      {
        config: { access: { permission: 'programs:write' } },
        schema: {
          tags: ['programs'],
          summary: 'Publish a draft: it never changes again, and new enrollments use it',
          params: versionParams,
          response: { 200: versionSummarySchema.extend({ programKey: z.string() }), ...problems },
        },
      },
      async (request) => {
        const change = changeBy(request);
        const { version } = await db
          .transaction()
          .execute((trx) =>
            publishVersion(trx, change, request.params.programKey, request.params.version),
          );
        return { programKey: request.params.programKey, ...presentVersion(version) };
      },
    );

    // Archiving is the "delete" of programs: nothing is removed, since enrollments stay pinned to
    // their versions. Two actions rather than a PATCH of `archivedAt`, like publish: each is one
    // audited change with its own rule, and asking again for the state a program is in is a no-op.
    for (const [action, archived] of [
      ['archive', true],
      ['unarchive', false],
    ] as const) {
      app.post(
        `/api/v1/programs/:programKey/${action}`,
        {
          config: { access: { permission: 'programs:write' } },
          schema: {
            tags: ['programs'],
            summary: archived
              ? 'Archive a program: hidden from the list, no new versions or enrollments; existing enrollments go on'
              : 'Unarchive a program: listed again, and open to new versions and enrollments',
            params: programParams,
            response: { 200: programDetailSchema, ...problems },
          },
        },
        async (request) => {
          const change = changeBy(request);
          const { program } = await db
            .transaction()
            .execute((trx) => setArchived(trx, change, request.params.programKey, archived));
          return detailOf(db, program);
        },
      );
    }

    app.post(
      '/api/v1/programs/:programKey/migrations',
      {
        config: { access: { permission: 'programs:write' } },
        schema: {
          tags: ['programs'],
          summary:
            'Move active enrollments from one version to another: a dry run unless apply is true',
          params: programParams,
          body: migrationBodySchema,
          response: { 200: migrationSchema, ...problems },
        },
      },
      async (request) => {
        const change = changeBy(request);
        return db
          .transaction()
          .execute((trx) =>
            migrateEnrollments(trx, change, request.params.programKey, request.body),
          );
      },
    );
  };
}
