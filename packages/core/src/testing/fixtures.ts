import type { z } from 'zod';
import {
  type milestoneSchema,
  type ProgramDefinition,
  type ProgramDefinitionInput,
  programDefinitionSchema,
} from '../program/program.js';
import type { Actor } from '../progress/progress.js';

export type MilestoneInput = z.input<typeof milestoneSchema>;

/** A milestone in the catch-all phase of `program()`. */
export function milestone(
  key: string,
  targetDay: number,
  dependsOn: string[] = [],
  extra: Partial<MilestoneInput> = {},
): MilestoneInput {
  return { key, title: `Title of ${key}`, phase: 'all', targetDay, dependsOn, ...extra };
}

/** A parsed program (defaults applied) with one phase spanning a year unless phases are given. */
export function program(
  milestones: MilestoneInput[],
  extra: Partial<ProgramDefinitionInput> = {},
): ProgramDefinition {
  return programDefinitionSchema.parse({
    key: 'test',
    name: 'Test program',
    phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 365 }],
    milestones,
    ...extra,
  });
}

export const csm: Actor = { type: 'user', id: 'user_csm' };
export const system: Actor = { type: 'system', id: null };

/**
 * A 90-day program shaped like the reference ladder: four phases, a DAG, and each way of
 * verifying a completion: the CSM or the client (kickoff), the product data or the client
 * (integration), the CSM alone (training, sso), the product data or the CSM (first-workflow),
 * the client alone (go-live).
 */
export const sampleProgramInput: ProgramDefinitionInput = {
  key: 'standard-onboarding',
  name: 'Standard onboarding',
  phases: [
    { key: 'foundation', name: 'Foundation', startDay: 0, endDay: 14 },
    { key: 'initial-value', name: 'Initial value', startDay: 15, endDay: 30 },
    { key: 'adoption', name: 'Adoption expansion', startDay: 31, endDay: 60 },
    { key: 'sustained', name: 'Sustained success', startDay: 61, endDay: 90 },
  ],
  milestones: [
    {
      key: 'kickoff',
      title: 'Kickoff call held',
      phase: 'foundation',
      targetDay: 3,
      verification: ['csm', 'client'],
    },
    {
      key: 'integration',
      title: 'CRM integration live',
      phase: 'foundation',
      targetDay: 14,
      dependsOn: ['kickoff'],
      owner: 'specialist',
      verification: ['auto', 'client'],
      criteria: 'event_count("Contact Synced") >= 100',
      tasks: [{ title: 'Connect the CRM', owner: 'customer' }],
    },
    {
      key: 'training',
      title: 'Admins trained',
      phase: 'initial-value',
      targetDay: 21,
      dependsOn: ['kickoff'],
      audience: ['admin'],
    },
    {
      key: 'first-workflow',
      title: 'First workflow run',
      phase: 'initial-value',
      targetDay: 30,
      dependsOn: ['integration', 'training'],
      verification: ['auto', 'csm'],
      criteria: 'event_count("Workflow Completed") >= 1',
      firstValue: true,
      playbook: {
        purpose: 'Show value early',
        email: { subject: 'Your first workflow', body: 'Hi' },
      },
    },
    {
      key: 'sso',
      title: 'SSO configured',
      phase: 'adoption',
      targetDay: 45,
      dependsOn: ['integration'],
      segments: ['enterprise'],
    },
    {
      key: 'go-live',
      title: 'Go-live signed off',
      phase: 'sustained',
      targetDay: 75,
      dependsOn: ['first-workflow', 'sso'],
      verification: ['client'],
      goLive: true,
    },
  ],
};

export const sampleProgram: ProgramDefinition = programDefinitionSchema.parse(sampleProgramInput);
