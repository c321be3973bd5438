import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import { type ProgramIssue, validateProgram } from './validate-program.js';

const SLUG = /^[a-z][a-z0-9_-]*$/;

/** Keys end up in URLs, YAML files and event names, so they are kept to a safe alphabet. */
export const slugSchema = z
  .string()
  .max(64, { error: 'must be at most 64 characters' })
  .regex(SLUG, {
    error: 'must start with a lowercase letter and contain only a-z, 0-9, "_" and "-"',
  });

const text = z.string().trim().min(1, { error: 'must not be empty' });

export const dayCountingSchema = z.enum(['calendar', 'business']);
export type DayCounting = z.infer<typeof dayCountingSchema>;

export const verificationMethodSchema = z.enum(['auto', 'csm', 'client']);
export type VerificationMethod = z.infer<typeof verificationMethodSchema>;

export const phaseSchema = z
  .strictObject({
    key: slugSchema,
    name: text,
    startDay: z.int().min(0),
    endDay: z.int().min(0),
  })
  .superRefine((phase, ctx) => {
    if (phase.endDay < phase.startDay) {
      ctx.addIssue({
        code: 'custom',
        path: ['endDay'],
        message: `Phase "${phase.key}" ends (day ${phase.endDay}) before it starts (day ${phase.startDay})`,
        params: { code: 'phase_ends_before_start' },
      });
    }
  });
export type Phase = z.infer<typeof phaseSchema>;

export const taskSchema = z.strictObject({ title: text, owner: text });
export type Task = z.infer<typeof taskSchema>;

export const playbookSchema = z.strictObject({
  purpose: text.optional(),
  expectedActions: z.array(text).optional(),
  risks: z.array(text).optional(),
  successMetric: text.optional(),
  instructionalCue: text.optional(),
  unlocksFeature: text.optional(),
  inAppMessage: text.optional(),
  email: z.strictObject({ subject: text, body: text }).optional(),
  helpArticle: text.optional(),
});
export type Playbook = z.infer<typeof playbookSchema>;

export const milestoneSchema = z
  .strictObject({
    key: slugSchema,
    title: text,
    phase: z.string(),
    targetDay: z.int().min(0),
    // Dependencies and the phase are plain strings here: unknown keys are reported by
    // validateProgram with a message that names the milestones involved.
    dependsOn: z.array(z.string()).default(() => []),
    owner: text.default('csm'),
    audience: z.array(text).optional(),
    // An empty list would read as "for no segment at all", which is never what an author means.
    segments: z.array(text).min(1, { error: 'omit segments to apply to every segment' }).optional(),
    verification: z
      .array(verificationMethodSchema)
      .min(1, { error: 'needs at least one verification method' })
      .refine((methods) => new Set(methods).size === methods.length, {
        error: 'lists a verification method more than once',
        params: { code: 'duplicate_verification' },
      })
      .default(() => ['csm' as const]),
    criteria: text.optional(),
    tasks: z.array(taskSchema).optional(),
    firstValue: z.boolean().optional(),
    goLive: z.boolean().optional(),
    playbook: playbookSchema.optional(),
  })
  .superRefine((milestone, ctx) => {
    const auto = milestone.verification.includes('auto');
    if (auto && milestone.criteria === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['criteria'],
        message: `Milestone "${milestone.key}" is verified automatically ("auto") but has no criteria`,
        params: { code: 'criteria_required' },
      });
    }
    if (!auto && milestone.criteria !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['criteria'],
        message: `Milestone "${milestone.key}" has criteria but its verification does not include "auto", so they would never be evaluated`,
        params: { code: 'criteria_without_auto' },
      });
    }
  });
export type Milestone = z.infer<typeof milestoneSchema>;

export const programDefinitionSchema = z.strictObject({
  key: slugSchema,
  name: text,
  description: z.string().optional(),
  schedule: z
    .strictObject({ dayCounting: dayCountingSchema.default('calendar') })
    .default(() => ({ dayCounting: 'calendar' as const })),
  phases: z.array(phaseSchema).min(1, { error: 'needs at least one phase' }),
  milestones: z.array(milestoneSchema).min(1, { error: 'needs at least one milestone' }),
});

/** A program after parsing: defaults are filled in (schedule, dependsOn, owner, verification). */
export type ProgramDefinition = z.infer<typeof programDefinitionSchema>;
/** What an author writes (YAML or API body): the defaulted fields may be left out. */
export type ProgramDefinitionInput = z.input<typeof programDefinitionSchema>;

/**
 * Parses and validates a program definition. Structural problems (zod) are reported first and
 * alone, because the graph checks need a well-formed program; once the shape is right every
 * error from validateProgram is returned. Warnings are not errors: get them from validateProgram.
 */
export function parseProgramDefinition(input: unknown): Result<ProgramDefinition, ProgramIssue[]> {
  const parsed = programDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    return err(parsed.error.issues.map((issue) => toProgramIssue(issue, input)));
  }
  const { errors } = validateProgram(parsed.data);
  return errors.length > 0 ? err(errors) : ok(parsed.data);
}

function toProgramIssue(issue: z.core.$ZodIssue, input: unknown): ProgramIssue {
  const path = issue.path.filter(
    (segment): segment is string | number => typeof segment !== 'symbol',
  );
  const customCode =
    issue.code === 'custom' && typeof issue.params?.code === 'string' ? issue.params.code : null;
  const where = milestoneKeyAt(input, path);
  const named = where === null || issue.message.includes(`"${where}"`);
  const message = named ? issue.message : `Milestone "${where}": ${issue.message}`;
  return { code: customCode ?? issue.code, path, message };
}

/** The key of the milestone a path points into, if the raw input has one, to name it in messages. */
function milestoneKeyAt(input: unknown, path: (string | number)[]): string | null {
  if (path[0] !== 'milestones' || typeof path[1] !== 'number') return null;
  if (typeof input !== 'object' || input === null) return null;
  const milestones: unknown = Reflect.get(input, 'milestones');
  if (!Array.isArray(milestones)) return null;
  const milestone: unknown = milestones[path[1]];
  if (typeof milestone !== 'object' || milestone === null) return null;
  const key: unknown = Reflect.get(milestone, 'key');
  return typeof key === 'string' && key.length > 0 ? key : null;
}
