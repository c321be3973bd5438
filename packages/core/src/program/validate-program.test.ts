import { describe, expect, it } from 'vitest';
import { milestone, program, sampleProgram } from '../testing/fixtures.js';
import { validateProgram } from './validate-program.js';

describe('validateProgram', () => {
  it('finds nothing wrong with the sample program', () => {
    expect(validateProgram(sampleProgram)).toEqual({ errors: [], warnings: [] });
  });

  it('reports duplicate phase and milestone keys at the later occurrence', () => {
    const { errors } = validateProgram(
      program([milestone('a', 1), milestone('b', 2), milestone('a', 3)], {
        phases: [
          { key: 'all', name: 'All', startDay: 0, endDay: 90 },
          { key: 'all', name: 'Again', startDay: 0, endDay: 90 },
        ],
      }),
    );
    expect(errors).toEqual([
      {
        code: 'duplicate_phase_key',
        path: ['phases', 1, 'key'],
        message: 'Phase key "all" is used more than once; phase keys must be unique',
      },
      {
        code: 'duplicate_milestone_key',
        path: ['milestones', 2, 'key'],
        message: 'Milestone key "a" is used more than once; milestone keys must be unique',
      },
    ]);
  });

  it('reports unknown and self dependencies at the dependsOn entry', () => {
    const { errors } = validateProgram(
      program([
        milestone('setup', 1),
        milestone('training', 2, ['setup', 'integraton', 'training']),
      ]),
    );
    expect(errors).toEqual([
      {
        code: 'unknown_dependency',
        path: ['milestones', 1, 'dependsOn', 1],
        message:
          'Milestone "training" depends on "integraton", which is not a milestone of this program',
      },
      {
        code: 'self_dependency',
        path: ['milestones', 1, 'dependsOn', 2],
        message: 'Milestone "training" depends on itself',
      },
    ]);
  });

  it('names a two-milestone cycle in dependency order with the first key repeated', () => {
    const { errors } = validateProgram(
      program([
        milestone('integration', 5, ['training']),
        milestone('training', 5, ['integration']),
      ]),
    );
    expect(errors).toEqual([
      {
        code: 'dependency_cycle',
        path: ['milestones', 0, 'dependsOn', 0],
        message:
          'Milestones depend on each other in a cycle: integration → training → integration; remove one of these dependencies',
      },
    ]);
  });

  it('writes a longer cycle so that each key is a dependency of the next', () => {
    // b depends on a, c on b, a on c.
    const { errors } = validateProgram(
      program([
        milestone('kickoff', 0),
        milestone('a', 5, ['kickoff', 'c']),
        milestone('b', 5, ['a']),
        milestone('c', 5, ['b']),
      ]),
    );
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['dependency_cycle', ['milestones', 1, 'dependsOn', 1]],
    ]);
    expect(errors[0]?.message).toContain('a → b → c → a');
  });

  it('reports phase problems: unknown phase and target day outside the phase', () => {
    const phases = [
      { key: 'foundation', name: 'Foundation', startDay: 0, endDay: 14 },
      { key: 'value', name: 'Value', startDay: 15, endDay: 30 },
    ];
    const { errors } = validateProgram(
      program(
        [
          milestone('kickoff', 0, [], { phase: 'foundation' }),
          milestone('setup', 14, [], { phase: 'foundation' }),
          milestone('training', 31, [], { phase: 'value' }),
          milestone('adoption', 40, [], { phase: 'expansion' }),
        ],
        { phases },
      ),
    );
    expect(errors).toEqual([
      {
        code: 'outside_phase',
        path: ['milestones', 2, 'targetDay'],
        message: 'Milestone "training" is due on day 31, outside its phase "value" (days 15-30)',
      },
      {
        code: 'unknown_phase',
        path: ['milestones', 3, 'phase'],
        message:
          'Milestone "adoption" is in phase "expansion", which does not exist (phases: "foundation", "value")',
      },
    ]);
  });

  it('warns when a milestone is due before one of its dependencies', () => {
    const result = validateProgram(
      program([milestone('integration', 14), milestone('training', 10, ['integration'])]),
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      {
        code: 'due_before_dependency',
        path: ['milestones', 1, 'targetDay'],
        message:
          'Milestone "training" is due on day 10, before its dependency "integration" (day 14); it cannot be done on time unless "integration" is early',
      },
    ]);
  });

  it('reports every problem at once', () => {
    const result = validateProgram(
      program([
        milestone('a', 400, ['b']),
        milestone('b', 2, ['a', 'missing']),
        milestone('b', 3),
        milestone('c', 1, ['c'], { phase: 'nope' }),
      ]),
    );
    expect(result.errors.map((e) => e.code).sort()).toEqual([
      'dependency_cycle',
      'duplicate_milestone_key',
      'outside_phase',
      'self_dependency',
      'unknown_dependency',
      'unknown_phase',
    ]);
    expect(result.warnings.map((w) => w.code)).toEqual(['due_before_dependency']);
  });

  it('compiles every criterion and reports each fault with its place in the expression', () => {
    const { errors } = validateProgram(
      program([
        milestone('synced', 1, [], {
          verification: ['auto'],
          criteria: 'event_count("Contact Synced") >= 100',
        }),
        milestone('active', 2, [], {
          verification: ['auto', 'client'],
          criteria: 'event_count("Login") >= 1 &&\n  active_users("7 days") >= 5',
        }),
        milestone('broken', 3, [], { verification: ['auto'], criteria: 'event_count("x") >=' }),
      ]),
    );
    expect(errors).toEqual([
      {
        code: 'invalid_criteria',
        path: ['milestones', 1, 'criteria'],
        message:
          'Milestone "active": criteria: found no matching overload for \'active_users(string)\'; active_users takes active_users(google.protobuf.Duration)',
        position: { line: 2, column: 3 },
      },
      {
        code: 'invalid_criteria',
        path: ['milestones', 2, 'criteria'],
        message: 'Milestone "broken": criteria: unexpected end of the criterion',
        position: { line: 1, column: 20 },
      },
    ]);
  });

  it('refuses criteria that are not true or false', () => {
    const { errors } = validateProgram(
      program([
        milestone('count', 1, [], { verification: ['auto'], criteria: 'event_count("x")' }),
      ]),
    );
    expect(errors.map((e) => [e.code, e.position])).toEqual([
      ['invalid_criteria', { line: 1, column: 1 }],
    ]);
    expect(errors[0]?.message).toMatch(
      /^Milestone "count": criteria: a criterion must be true or false/,
    );
  });
});
