import { z } from 'zod';
import { milestoneSchema, programDefinitionSchema } from './program.js';

/**
 * The JSON Schema (draft 2020-12) of a program document as people write it — defaulted fields
 * are optional — with a title and a description on every field. Editors use it to complete and
 * check YAML and JSON programs (`schemas/program.schema.json` is this, committed). It describes
 * the shape only: dependencies, phases and criteria are checked by parseProgramYaml and
 * parseProgramDefinition.
 */
export function programJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(programDefinitionSchema, {
    io: 'input',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      if (zodSchema === milestoneSchema) {
        // The rule of milestoneSchema's refinement, so that editors flag it too: criteria are
        // required exactly when verification includes auto (verification defaults to [csm]).
        jsonSchema.if = {
          properties: { verification: { contains: { const: 'auto' } } },
          required: ['verification'],
        };
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keywords
        jsonSchema.then = { required: ['criteria'] };
        jsonSchema.else = { not: { required: ['criteria'] } };
      }
    },
  });
}
