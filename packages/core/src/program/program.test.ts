import { describe, expect, it } from 'vitest';
import { milestone, sampleProgramInput } from '../testing/fixtures.js';
import {
  checkProgramDefinition,
  parseProgramDefinition,
  programDefinitionSchema,
} from './program.js';

const base = {
  key: 'p',
  name: 'P',
  phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 90 }],
};

function codesAndPaths(input: unknown) {
  const result = parseProgramDefinition(input);
  if (result.ok) throw new Error('expected the program to be refused');
  return result.error.map(({ code, path }) => ({ code, path }));
}

describe('programDefinitionSchema', () => {
  it('fills in the defaults of a minimal milestone', () => {
    const parsed = programDefinitionSchema.parse({ ...base, milestones: [milestone('a', 1)] });
    expect(parsed.schedule).toEqual({ dayCounting: 'calendar' });
    expect(parsed.milestones[0]).toMatchObject({
      dependsOn: [],
      owner: 'csm',
      verification: ['csm'],
    });
  });

  it('does not share default arrays between parses', () => {
    const one = programDefinitionSchema.parse({
      ...base,
      milestones: [{ ...milestone('a', 1), dependsOn: undefined }],
    });
    one.milestones[0]?.dependsOn.push('x');
    const two = programDefinitionSchema.parse({
      ...base,
      milestones: [{ ...milestone('a', 1), dependsOn: undefined }],
    });
    expect(two.milestones[0]?.dependsOn).toEqual([]);
  });

  it('accepts the full sample program with business-day counting', () => {
    const parsed = parseProgramDefinition({
      ...sampleProgramInput,
      schedule: { dayCounting: 'business' },
    });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.value.schedule.dayCounting).toBe('business');
      expect(parsed.value.milestones.map((m) => m.key)).toEqual([
        'kickoff',
        'integration',
        'training',
        'first-workflow',
        'sso',
        'go-live',
      ]);
    }
  });
});

describe('parseProgramDefinition', () => {
  it('refuses unknown fields anywhere, naming the milestone', () => {
    const result = parseProgramDefinition({
      ...base,
      colour: 'blue',
      milestones: [{ ...milestone('setup', 1), target_day: 1 }],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map((i) => i.code)).toEqual(['unrecognized_keys', 'unrecognized_keys']);
    const onMilestone = result.error.find((i) => i.path[0] === 'milestones');
    expect(onMilestone?.path).toEqual(['milestones', 0, 'target_day']);
    expect(onMilestone?.message).toBe(
      'Milestone "setup": unknown field "target_day"; did you mean "targetDay"? (fields are written in camelCase)',
    );
    expect(result.error.find((i) => i.path[0] === 'colour')?.message).toBe(
      'unknown field "colour"; the fields here are key, name, description, schedule, phases, milestones',
    );
  });

  it('refuses keys that are not slugs or longer than 64 characters', () => {
    expect(
      codesAndPaths({ ...base, key: 'Bad Key', milestones: [milestone(`a${'b'.repeat(64)}`, 1)] }),
    ).toEqual([
      { code: 'invalid_format', path: ['key'] },
      { code: 'too_big', path: ['milestones', 0, 'key'] },
    ]);
  });

  it('refuses an empty name, negative target day, fractional day and empty lists', () => {
    expect(
      codesAndPaths({
        ...base,
        name: '  ',
        milestones: [
          milestone('a', -1),
          milestone('b', 1.5, [], { verification: [], segments: [] }),
        ],
      }),
    ).toEqual([
      { code: 'too_small', path: ['name'] },
      { code: 'too_small', path: ['milestones', 0, 'targetDay'] },
      { code: 'invalid_type', path: ['milestones', 1, 'targetDay'] },
      { code: 'too_small', path: ['milestones', 1, 'segments'] },
      { code: 'too_small', path: ['milestones', 1, 'verification'] },
    ]);
  });

  it('requires at least one phase and one milestone', () => {
    expect(codesAndPaths({ key: 'p', name: 'P', phases: [], milestones: [] })).toEqual([
      { code: 'too_small', path: ['phases'] },
      { code: 'too_small', path: ['milestones'] },
    ]);
  });

  it('refuses a phase that ends before it starts', () => {
    const result = parseProgramDefinition({
      ...base,
      phases: [{ key: 'late', name: 'Late', startDay: 10, endDay: 5 }],
      milestones: [milestone('a', 7, [], { phase: 'late' })],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toEqual([
        {
          code: 'phase_ends_before_start',
          path: ['phases', 0, 'endDay'],
          message: 'Phase "late" ends (day 5) before it starts (day 10)',
        },
      ]);
    }
  });

  it('refuses duplicate verification methods', () => {
    const result = parseProgramDefinition({
      ...base,
      milestones: [milestone('a', 1, [], { verification: ['csm', 'csm'] })],
    });
    expect(result).toEqual({
      ok: false,
      error: [
        {
          code: 'duplicate_verification',
          path: ['milestones', 0, 'verification'],
          message: 'Milestone "a": "verification" lists a verification method more than once',
        },
      ],
    });
  });

  it('requires criteria exactly when verification includes auto', () => {
    const result = parseProgramDefinition({
      ...base,
      milestones: [
        milestone('synced', 1, [], { verification: ['auto', 'client'] }),
        milestone('trained', 2, [], {
          verification: ['csm'],
          criteria: 'active_users(duration("168h")) >= 5',
        }),
        milestone('ok', 3, [], { verification: ['auto'], criteria: 'event_count("Login") >= 1' }),
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map(({ code, path }) => ({ code, path }))).toEqual([
      { code: 'criteria_required', path: ['milestones', 0, 'criteria'] },
      { code: 'criteria_without_auto', path: ['milestones', 1, 'criteria'] },
    ]);
    expect(result.error[0]?.message).toContain('"synced"');
    expect(result.error[1]?.message).toContain('"trained"');
  });

  it('runs the graph validation once the shape is right', () => {
    const result = parseProgramDefinition({
      ...base,
      milestones: [
        milestone('a', 1, ['b']),
        milestone('b', 2, ['a']),
        milestone('c', 3, ['ghost']),
      ],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.map((i) => i.code).sort()).toEqual([
        'dependency_cycle',
        'unknown_dependency',
      ]);
    }
  });

  it('does not fail on a warning alone', () => {
    const result = parseProgramDefinition({
      ...base,
      milestones: [milestone('a', 10), milestone('b', 5, ['a'])],
    });
    expect(result.ok).toBe(true);
  });

  it('reports a non-object input as a type error at the root', () => {
    expect(codesAndPaths('key: p')).toEqual([{ code: 'invalid_type', path: [] }]);
  });

  it('words schema problems for authors: the milestone, the field, the fault and the value', () => {
    const result = parseProgramDefinition({
      ...base,
      phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 'ninety' }],
      milestones: [
        {
          ...milestone('kickoff', 1),
          targetDay: 'five',
          verification: ['robot'],
          tasks: [{ title: 'Call' }],
        },
        { ...milestone('b', 1), targetDay: -1, firstValue: 'yes', dependsOn: 'kickoff' },
        { title: 'No key', phase: 'all', targetDay: 2.5 },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map((issue) => issue.message)).toEqual([
      'Phase "all": "endDay" must be a whole number, but is the text "ninety"',
      'Milestone "kickoff": "targetDay" must be a whole number, but is the text "five"',
      'Milestone "kickoff": "verification[0]" must be one of "auto", "csm", "client", but is the text "robot"',
      'Milestone "kickoff": "tasks[0]" is missing the required field "owner"',
      'Milestone "b": "targetDay" must be at least 0, but is -1',
      'Milestone "b": "dependsOn" must be a list, but is the text "kickoff"',
      'Milestone "b": "firstValue" must be true or false, but is the text "yes"',
      '"milestones[2]" is missing the required field "key"',
      '"milestones[2].targetDay" must be a whole number, but is the number 2.5',
    ]);
  });

  it('names the field of our own predicates: empty text, too few items', () => {
    const result = parseProgramDefinition({ key: 'p', name: ' ', phases: [], milestones: [] });
    expect(result.ok ? [] : result.error.map((issue) => issue.message)).toEqual([
      '"name" must not be empty',
      '"phases" needs at least one phase',
      '"milestones" needs at least one milestone',
    ]);
  });
});

describe('checkProgramDefinition', () => {
  it('returns the program with the warnings that do not refuse it', () => {
    const check = checkProgramDefinition({
      ...base,
      milestones: [milestone('a', 10), milestone('b', 5, ['a'])],
    });
    expect(check.errors).toEqual([]);
    expect(check.program?.milestones).toHaveLength(2);
    expect(check.warnings.map((w) => w.code)).toEqual(['due_before_dependency']);
  });

  it('has no program when there is an error', () => {
    const check = checkProgramDefinition({ ...base, milestones: [milestone('a', 1, ['a'])] });
    expect(check.program).toBeNull();
    expect(check.errors.map((e) => e.code)).toEqual(['self_dependency']);
  });
});
