import { slugSchema } from '@waymark/core';
import { z } from 'zod';
import { problemSchema } from '../http/problem.js';

/** A problem whose errors may be placed in a YAML file (or inside a criterion) by line and column. */
export const programProblemSchema = problemSchema.extend({
  errors: z
    .array(
      z.object({
        field: z.string(),
        message: z.string(),
        line: z.number().int().optional(),
        column: z.number().int().optional(),
      }),
    )
    .optional()
    .describe('one entry per fault, with its line and column in the YAML (or criterion)'),
});

export const problems = {
  400: programProblemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
};

export const programSourceSchema = z
  .object({
    definition: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('the program document as JSON (camelCase, as in YAML)'),
    yaml: z
      .string()
      .max(1024 * 1024)
      .optional()
      .describe('the program document as YAML text'),
  })
  .refine((body) => (body.definition === undefined) !== (body.yaml === undefined), {
    message: 'give either "definition" (JSON) or "yaml" (text), not both',
  });

export const versionSummarySchema = z.object({
  version: z.number().int(),
  status: z.enum(['draft', 'published']),
  definitionHash: z.string().describe('sha256 of the canonical definition'),
  publishedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const programSchema = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z
    .string()
    .nullable()
    .describe('when the program was archived (no new versions or enrollments); null while in use'),
});

export const programListItemSchema = programSchema.extend({
  latestVersion: z.number().int(),
  latestPublishedVersion: z
    .number()
    .int()
    .nullable()
    .describe('the version new enrollments use; null until one is published'),
  draftVersion: z.number().int().nullable().describe('the version still being edited, if any'),
});

export const programDetailSchema = programListItemSchema.extend({
  versions: z.array(versionSummarySchema),
});

export const savedVersionSchema = z.object({
  program: programSchema,
  version: versionSummarySchema,
  changed: z.boolean().describe('false when the definition equals the latest version'),
  outcome: z.enum(['created', 'unchanged', 'draft_updated', 'draft_created']),
});

export const definitionSchema = z
  .record(z.string(), z.unknown())
  .describe('the program document (camelCase), with its defaults filled in');

export const programListQuery = z.object({
  archived: z
    .enum(['exclude', 'include', 'only'])
    .default('exclude')
    .describe('archived programs: left out (the default), listed too, or listed alone'),
});

/** A version as YAML text, for `?format=yaml`. */
export const programYamlSchema = z
  .string()
  .describe('the program document as YAML, as `waymark apply` and POST /api/v1/programs read it');

export const programParams = z.object({ programKey: slugSchema });
export const versionParams = programParams.extend({
  version: z.coerce.number().int().min(1),
});

export const migrationBodySchema = z.object({
  from: z.number().int().min(1).describe('the version the enrollments are pinned to now'),
  to: z.number().int().min(1).describe('the version to move them to (published, to apply)'),
  apply: z.boolean().default(false).describe('move them; otherwise only say what would change'),
});

export const migrationSchema = z.object({
  programKey: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  diff: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    redated: z.array(
      z.object({ key: z.string(), fromDay: z.number().int(), toDay: z.number().int() }),
    ),
    dependencyChanges: z.array(
      z.object({ key: z.string(), added: z.array(z.string()), removed: z.array(z.string()) }),
    ),
    unchanged: z.boolean(),
  }),
  affectedEnrollments: z.number().int(),
  applied: z.boolean(),
  enrollments: z.array(
    z.object({
      enrollmentId: z.string(),
      accountId: z.string(),
      milestonesAdded: z.array(z.string()),
      milestonesRemoved: z.array(z.string()),
      completionsKept: z.number().int(),
    }),
  ),
});
