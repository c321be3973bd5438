import { z } from 'zod';
import { err, ok, type Result } from '../result.js';
import { schemaIssues } from './program-issues.js';
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

/** Title and description shown by editors (JSON Schema) and in the API reference. */
const about = (title: string, description: string) => ({ title, description });

export const phaseSchema = z
  .strictObject({
    key: slugSchema.meta(
      about('Phase key', 'Identifier that milestones use to name their phase, e.g. foundation.'),
    ),
    name: text.meta(about('Name', 'Name of the phase shown to your team and your customers.')),
    startDay: z
      .int()
      .min(0)
      .meta(
        about(
          'Start day',
          'First day of the phase, counted from the start of the enrollment (day 0).',
        ),
      ),
    endDay: z
      .int()
      .min(0)
      .meta(
        about(
          'End day',
          'Last day of the phase; the milestones of the phase are due between its start day and its end day.',
        ),
      ),
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
  })
  .meta(
    about(
      'Phase',
      'A stage of the program, e.g. Foundation (days 0-14) or Initial value (days 15-30).',
    ),
  );
export type Phase = z.infer<typeof phaseSchema>;

export const taskSchema = z
  .strictObject({
    title: text.meta(about('Task', 'What to do, e.g. "Enter the API credentials".')),
    owner: text.meta(
      about('Owner', 'Who does it: customer, csm, specialist, or a role of your own.'),
    ),
  })
  .meta(about('Task', 'One step towards the milestone, with the person who does it.'));
export type Task = z.infer<typeof taskSchema>;

export const playbookSchema = z
  .strictObject({
    purpose: text.optional().meta(about('Purpose', 'Why the milestone matters to the customer.')),
    expectedActions: z
      .array(text)
      .optional()
      .meta(about('Expected actions', 'What the customer is expected to do, step by step.')),
    risks: z
      .array(text)
      .optional()
      .meta(about('Risks', 'What usually gets in the way, so that the CSM can act early.')),
    successMetric: text
      .optional()
      .meta(about('Success metric', 'How you know the milestone delivered value.')),
    instructionalCue: text
      .optional()
      .meta(
        about(
          'Instructional cue',
          'A short hint shown next to the milestone, e.g. in the in-app checklist.',
        ),
      ),
    unlocksFeature: text
      .optional()
      .meta(
        about(
          'Unlocks feature',
          'The feature or capability the customer gets once the milestone is reached.',
        ),
      ),
    inAppMessage: text
      .optional()
      .meta(about('In-app message', 'Message shown in the product while the milestone is open.')),
    email: z
      .strictObject({
        subject: text.meta(about('Subject', 'Subject line of the email.')),
        body: text.meta(about('Body', 'Text of the email.')),
      })
      .optional()
      .meta(about('Email', 'Email sent to the customer about this milestone.')),
    helpArticle: text
      .optional()
      .meta(
        about(
          'Help article',
          'Link to (or title of) the help-centre article that explains the steps.',
        ),
      ),
  })
  .meta(
    about(
      'Playbook',
      'How your team and your product guide the customer to this milestone: purpose, expected actions, risks, success metric and the messages that go with it.',
    ),
  );
export type Playbook = z.infer<typeof playbookSchema>;

export const milestoneSchema = z
  .strictObject({
    key: slugSchema.meta(
      about(
        'Milestone key',
        'Stable identifier of the milestone, used by dependsOn, in events and in URLs, e.g. first-workflow.',
      ),
    ),
    title: text.meta(
      about('Title', 'What the customer achieves, in their words, e.g. "First workflow live".'),
    ),
    phase: z.string().meta(about('Phase', 'Key of the phase the milestone belongs to.')),
    targetDay: z
      .int()
      .min(0)
      .meta(
        about(
          'Target day',
          'Day the milestone is due, counted from the start of the enrollment: due date = start + target day.',
        ),
      ),
    // Dependencies and the phase are plain strings here: unknown keys are reported by
    // validateProgram with a message that names the milestones involved.
    dependsOn: z
      .array(z.string())
      .default(() => [])
      .meta(
        about(
          'Depends on',
          'Keys of the milestones that must be complete (or waived) before this one opens. They must not form a cycle.',
        ),
      ),
    owner: text
      .default('csm')
      .meta(
        about(
          'Owner',
          'Who drives the milestone: customer, csm, specialist, or a role of your own. Default: csm.',
        ),
      ),
    audience: z
      .array(text)
      .optional()
      .meta(
        about(
          'Audience',
          'The roles this milestone is for, e.g. admin, power-user or operator (role-based milestone sets).',
        ),
      ),
    // An empty list would read as "for no segment at all", which is never what an author means.
    segments: z
      .array(text)
      .min(1, { error: 'omit segments to apply to every segment' })
      .optional()
      .meta(
        about(
          'Segments',
          'Only accounts in these segments get this milestone, e.g. [Enterprise]; leave it out for every account.',
        ),
      ),
    verification: z
      .array(verificationMethodSchema)
      .min(1, { error: 'needs at least one verification method' })
      .refine((methods) => new Set(methods).size === methods.length, {
        error: 'lists a verification method more than once',
        params: { code: 'duplicate_verification' },
      })
      .default(() => ['csm' as const])
      .meta({
        uniqueItems: true,
        ...about(
          'Verification',
          'How completion is confirmed: auto (the criteria over product data), csm (marked by the CSM with evidence), client (confirmed by the customer). Combine them, e.g. [auto, client]. Default: [csm].',
        ),
      }),
    criteria: text.optional().meta({
      ...about(
        'Completion criteria',
        'Required when verification includes auto: a CEL expression over the account\'s product data that is true once the milestone is reached. Functions: event_count(name[, filter][, window]) and active_users(window), with windows such as duration("168h"); variables: traits.<name> and days_since_enrollment.',
      ),
      examples: [
        'event_count("Contact Synced") >= 100 && traits.crm_sync == "bidirectional"',
        'active_users(duration("168h")) >= 5',
        'event_count("Workflow Completed", {"status": "success"}) >= 1',
      ],
    }),
    tasks: z
      .array(taskSchema)
      .optional()
      .meta(about('Tasks', 'The steps to reach the milestone, each with its owner.')),
    firstValue: z
      .boolean()
      .optional()
      .meta(
        about(
          'First value',
          'Marks the time-to-value point: the first meaningful outcome for the customer.',
        ),
      ),
    goLive: z
      .boolean()
      .optional()
      .meta(
        about(
          'Go-live',
          "Marks go-live: it needs the customer's written sign-off and schedules the 30-day review.",
        ),
      ),
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
  })
  .meta(
    about(
      'Milestone',
      'A checkpoint the customer must reach: when it is due, what it depends on, who owns it and how its completion is verified.',
    ),
  );
export type Milestone = z.infer<typeof milestoneSchema>;

export const programDefinitionSchema = z
  .strictObject({
    key: slugSchema.meta(
      about(
        'Program key',
        'Stable identifier of the program, used in URLs and by the CLI, e.g. standard-onboarding.',
      ),
    ),
    name: text.meta(
      about('Name', 'Name shown to your team and your customers, e.g. "Standard onboarding".'),
    ),
    description: z
      .string()
      .optional()
      .meta(about('Description', 'What the program is for and which customers it suits.')),
    schedule: z
      .strictObject({
        dayCounting: dayCountingSchema
          .default('calendar')
          .meta(
            about(
              'Day counting',
              "calendar: every day counts; business: weekends and the workspace's holidays are skipped. Default: calendar.",
            ),
          ),
      })
      .default(() => ({ dayCounting: 'calendar' as const }))
      .meta(about('Schedule', 'How target days are counted.')),
    phases: z
      .array(phaseSchema)
      .min(1, { error: 'needs at least one phase' })
      .meta(about('Phases', 'The stages of the program, in order.')),
    milestones: z
      .array(milestoneSchema)
      .min(1, { error: 'needs at least one milestone' })
      .meta(
        about('Milestones', 'The checkpoints a customer must reach, in the order they are shown.'),
      ),
  })
  .meta(
    about(
      'Waymark onboarding program',
      'An onboarding program: phases and the milestones customers must reach, with their dependencies, target days, owners, verification and playbooks.',
    ),
  );

/** A program after parsing: defaults are filled in (schedule, dependsOn, owner, verification). */
export type ProgramDefinition = z.infer<typeof programDefinitionSchema>;
/** What an author writes (YAML or API body): the defaulted fields may be left out. */
export type ProgramDefinitionInput = z.input<typeof programDefinitionSchema>;

/** A program checked from end to end: the parsed program when there is no error, and every issue. */
export interface ProgramCheck {
  /** The program with its defaults filled in; null when there is at least one error. */
  program: ProgramDefinition | null;
  errors: ProgramIssue[];
  warnings: ProgramIssue[];
}

/**
 * Parses and validates a program definition. Structural problems (zod) are reported first and
 * alone, because the graph and criteria checks need a well-formed program; once the shape is
 * right every error and warning from validateProgram is returned.
 */
export function checkProgramDefinition(input: unknown): ProgramCheck {
  const parsed = programDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const errors = schemaIssues(parsed.error.issues, input, programDefinitionSchema);
    return { program: null, errors, warnings: [] };
  }
  const { errors, warnings } = validateProgram(parsed.data);
  return { program: errors.length > 0 ? null : parsed.data, errors, warnings };
}

/**
 * Parses and validates a program definition (see checkProgramDefinition). Warnings are not
 * errors: get them from checkProgramDefinition or validateProgram.
 */
export function parseProgramDefinition(input: unknown): Result<ProgramDefinition, ProgramIssue[]> {
  const { program, errors } = checkProgramDefinition(input);
  return program === null ? err(errors) : ok(program);
}
