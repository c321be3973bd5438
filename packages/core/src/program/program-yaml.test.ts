import { describe, expect, it } from 'vitest';
import { sampleProgram } from '../testing/fixtures.js';
import { parseProgramDefinition } from './program.js';
import {
  checkProgramYaml,
  formatIssue,
  type LocatedIssue,
  parseProgramYaml,
  serializeProgramYaml,
} from './program-yaml.js';

/** A program whose milestones are the given lines; the first milestone line is line 9. */
function program(...milestoneLines: string[]): string {
  return `${[
    'key: demo',
    'name: Demo',
    'phases:',
    '  - key: all',
    '    name: All',
    '    startDay: 0',
    '    endDay: 60',
    'milestones:',
    ...milestoneLines,
  ].join('\n')}\n`;
}

/** Every error as a compiler prints it. */
function errors(text: string): string[] {
  const result = parseProgramYaml(text, 'program.yaml');
  if (result.ok) throw new Error('expected the program to be refused');
  return result.error.map((issue) => formatIssue(issue));
}

/** The text from a 1-based line and column on: proves a position points at the fault. */
function textAt(text: string, line: number, column: number): string {
  return (text.split('\n')[line - 1] ?? '').slice(column - 1);
}

describe('parseProgramYaml: a catalogue of broken programs', () => {
  it('names a dependency cycle and places it at the dependsOn entry that closes it', () => {
    const text = program(
      '  - key: a',
      '    title: A',
      '    phase: all',
      '    targetDay: 5',
      '    dependsOn: [b]',
      '  - key: b',
      '    title: B',
      '    phase: all',
      '    targetDay: 5',
      '    dependsOn:',
      '      - a',
    );
    expect(errors(text)).toEqual([
      'program.yaml:13:17: Milestones depend on each other in a cycle: a → b → a; remove one of these dependencies',
    ]);
    expect(textAt(text, 13, 17)).toBe('b]');
  });

  it('places an unknown dependency at its entry', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '  - key: training',
      '    title: Training',
      '    phase: all',
      '    targetDay: 10',
      '    dependsOn:',
      '      - kickoff',
      '      - integraton',
    );
    expect(errors(text)).toEqual([
      'program.yaml:19:9: Milestone "training" depends on "integraton", which is not a milestone of this program',
    ]);
    expect(textAt(text, 19, 9)).toBe('integraton');
  });

  describe('criteria that do not compile, at the fault inside the expression', () => {
    const synced = [
      '  - key: synced',
      '    title: Contacts synced',
      '    phase: all',
      '    targetDay: 14',
      '    verification: [auto]',
    ];

    it('a syntax error in a plain single-line criterion', () => {
      const text = program(...synced, '    criteria: event_count("Contact Synced") >= && true');
      expect(errors(text)).toEqual([
        'program.yaml:14:48: Milestone "synced": criteria: Unexpected token: AND',
      ]);
      expect(textAt(text, 14, 48)).toBe('&& true');
    });

    it('a type error in a quoted single-line criterion (the column counts the quote)', () => {
      const text = program(
        ...synced,
        `    criteria: 'event_count("Contact Synced") >= 100 && trait.crm == "x"'`,
      );
      const result = parseProgramYaml(text, 'program.yaml');
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toEqual([
        {
          code: 'invalid_criteria',
          path: ['milestones', 0, 'criteria'],
          message:
            'Milestone "synced": criteria: unknown variable \'trait\'; a criterion can read traits and days_since_enrollment',
          position: { line: 1, column: 41 },
          file: 'program.yaml',
          line: 14,
          column: 56,
        },
      ]);
      expect(textAt(text, 14, 56)).toBe('trait.crm == "x"\'');
    });

    it('a type error on the second line of a | block', () => {
      const text = program(
        ...synced,
        '    criteria: |',
        '      event_count("Contact Synced") >= 100',
        '        && active_users("7 days") >= 5',
      );
      expect(errors(text)).toEqual([
        'program.yaml:16:12: Milestone "synced": criteria: found no matching overload for \'active_users(string)\'; active_users takes active_users(google.protobuf.Duration)',
      ]);
      expect(textAt(text, 16, 12)).toBe('active_users("7 days") >= 5');
    });

    it('a syntax error at the end of a | block', () => {
      const text = program(
        ...synced,
        '    criteria: |',
        '      event_count("Contact Synced") >= 100',
        '        && (active_users(duration("168h")) >= 5',
      );
      expect(errors(text)).toEqual([
        'program.yaml:16:48: Milestone "synced": criteria: Expected RPAREN, got EOF',
      ]);
      // Just past the last character: where the missing ")" goes.
      expect(textAt(text, 16, 47)).toBe('5');
    });

    it('a fault on the second line of a folded (>) block', () => {
      const text = program(
        ...synced,
        '    criteria: >',
        '      event_count("Contact Synced") >= 100',
        '      && active_users(duration("7 days")) >= 5',
      );
      expect(errors(text)).toEqual([
        expect.stringMatching(
          /^program\.yaml:16:32: Milestone "synced": criteria: invalid duration "7 days"/,
        ),
      ]);
      expect(textAt(text, 16, 32)).toBe('"7 days")) >= 5');
    });

    it('a value with ": " in a plain scalar, which YAML itself refuses, says to quote it', () => {
      const text = program(
        ...synced,
        '    criteria: event_count("Workflow Completed", {"status": "success"}) >= 1',
      );
      expect(errors(text)).toEqual([
        `program.yaml:14:15: this value contains ": ", which YAML reads as the start of a nested mapping; put the whole value in single quotes ('...') or write it as a | block`,
      ]);
    });
  });

  it('names the field, the expected type and the value of a wrong type', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: "five"',
      '    firstValue: yes',
    );
    expect(errors(text)).toEqual([
      'program.yaml:12:16: Milestone "kickoff": "targetDay" must be a whole number, but is the text "five"',
      'program.yaml:13:17: Milestone "kickoff": "firstValue" must be true or false, but is the text "yes"',
    ]);
    expect(textAt(text, 12, 16)).toBe('"five"');
  });

  it('places a duplicate milestone key at the second milestone with it', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '  - key: kickoff',
      '    title: Kickoff again',
      '    phase: all',
      '    targetDay: 4',
    );
    expect(errors(text)).toEqual([
      'program.yaml:13:10: Milestone key "kickoff" is used more than once; milestone keys must be unique',
    ]);
    expect(textAt(text, 13, 10)).toBe('kickoff');
  });

  it('places a duplicate YAML key at the repeated key and names the line of the first', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '    owner: csm',
      '    targetDay: 5',
    );
    expect(errors(text)).toEqual([
      'program.yaml:14:5: duplicate key "targetDay": it is already set on line 12 of this mapping; each key may appear only once',
    ]);
  });

  it('places an unknown field at its key, suggests the field meant, and a missing one at its mapping', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    tagret_day: 3',
    );
    expect(errors(text)).toEqual([
      'program.yaml:9:5: Milestone "kickoff": missing the required field "targetDay"',
      'program.yaml:12:5: Milestone "kickoff": unknown field "tagret_day"; did you mean "targetDay"?',
    ]);
    const result = parseProgramYaml(text);
    expect(result.ok ? [] : result.error.map((issue) => issue.path)).toEqual([
      ['milestones', 0, 'targetDay'],
      ['milestones', 0, 'tagret_day'],
    ]);
  });

  it('reports snake_case fields as the camelCase ones they mean', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '    depends_on: []',
    );
    expect(errors(text)).toEqual([
      'program.yaml:13:5: Milestone "kickoff": unknown field "depends_on"; did you mean "dependsOn"? (fields are written in camelCase)',
    ]);
  });

  it('reports a line indented deeper than its siblings at that line', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '      phase: all',
      '    targetDay: 3',
    );
    expect(errors(text)).toEqual([
      'program.yaml:11:7: bad indentation: this line is indented more than the key above it, so YAML reads it as part of that value; line it up with its sibling keys',
    ]);
  });

  it('reports a line indented less than its siblings at that line', () => {
    const text = program('  - key: kickoff', '   title: Kickoff', '    phase: all');
    expect(errors(text)).toEqual([
      'program.yaml:10:4: bad indentation: this line is indented less than the keys above it, but it does not start a new "- " list item',
    ]);
  });

  it('reports a key not lined up with the keys of its nested mapping', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '    playbook:',
      '      purpose: Start well',
      '     risks: [No sponsor]',
    );
    expect(errors(text)).toEqual([
      'program.yaml:15:6: bad indentation: this key is not lined up with the other keys of its mapping',
    ]);
  });

  it('reports an unclosed quote at the opening quote, not at the end of the file', () => {
    const text = program(
      '  - key: kickoff',
      '    title: "Kickoff',
      '    phase: all',
      '    targetDay: 3',
    );
    expect(errors(text)).toEqual([
      'program.yaml:10:12: unclosed quote: the text that starts with " here has no closing "',
    ]);
  });

  it('reports an unclosed flow list at its opening bracket', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '    verification: [csm, client',
      '    owner: csm',
    );
    expect(errors(text)).toEqual([
      'program.yaml:13:19: unclosed [: the list that starts here has no closing ]',
    ]);
  });

  it('refuses tabs as indentation and a second document', () => {
    expect(errors('key: demo\n\tname: Demo\n')).toEqual([
      'program.yaml:2:1: tabs cannot indent YAML; indent with spaces',
    ]);
    expect(errors('key: demo\n---\nkey: other\n')).toEqual([
      'program.yaml:2:1: the file holds more than one YAML document (a line with ---); a program file holds exactly one program',
    ]);
  });

  it('says what a program needs when the file is empty or not a mapping', () => {
    expect(errors('')).toEqual([
      'program.yaml:1:1: the program is empty; it needs at least key, name, phases and milestones',
    ]);
    expect(errors('# nothing yet\n')).toEqual([
      'program.yaml:1:1: the program is empty; it needs at least key, name, phases and milestones',
    ]);
    expect(errors('- a\n- b\n')).toEqual([
      'program.yaml:1:1: the program must be a mapping of fields, but is a list',
    ]);
  });

  it('reports every duplicate key, but only the first other syntax error (the rest follow from it)', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    title: Kickoff call',
      '    phase: all',
      '    phase: all',
      '   targetDay: 3',
      '    owner: csm',
    );
    expect(errors(text)).toEqual([
      'program.yaml:11:5: duplicate key "title": it is already set on line 10 of this mapping; each key may appear only once',
      'program.yaml:13:5: duplicate key "phase": it is already set on line 12 of this mapping; each key may appear only once',
      'program.yaml:14:4: bad indentation: this line is indented less than the keys above it, but it does not start a new "- " list item',
    ]);
  });

  it('follows anchors and aliases, and refuses aliases that expand without bound', () => {
    const text = program(
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '    tasks: &tasks',
      '      - title: Call',
      '        owner: csm',
      '  - key: review',
      '    title: Review',
      '    phase: all',
      '    targetDay: 5',
      '    tasks: *tasks',
      '    dependsOn: [kick-off]',
    );
    expect(errors(text)).toEqual([
      'program.yaml:21:17: Milestone "review" depends on "kick-off", which is not a milestone of this program',
    ]);
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    ].join('\n');
    expect(errors(bomb)).toEqual([
      expect.stringMatching(/^program\.yaml:1:1: cannot read the YAML: /),
    ]);
  });

  it('refuses a list used as a key', () => {
    expect(errors('? [a, b]\n: c\n')).toEqual([
      'program.yaml:1:3: a key must be plain text, not a list or a mapping',
    ]);
  });
});

describe('checkProgramYaml', () => {
  const valid = program(
    '  - key: integration',
    '    title: Integration',
    '    phase: all',
    '    targetDay: 14',
    '  - key: training',
    '    title: Training',
    '    phase: all',
    '    targetDay: 10',
    '    dependsOn: [integration]',
  );

  it('returns the program with its warnings, placed', () => {
    const check = checkProgramYaml(valid, 'program.yaml');
    expect(check.errors).toEqual([]);
    expect(check.program?.milestones.map((m) => m.key)).toEqual(['integration', 'training']);
    expect(check.warnings.map((w) => formatIssue(w, { severity: 'warning' }))).toEqual([
      'program.yaml:16:16: warning: Milestone "training" is due on day 10, before its dependency "integration" (day 14); it cannot be done on time unless "integration" is early',
    ]);
  });

  it('gives the same places for CRLF line endings and a byte-order mark', () => {
    const broken = valid.replace('targetDay: 14', 'targetDay: x');
    const lf = checkProgramYaml(broken).errors;
    const crlf = checkProgramYaml(`\uFEFF${broken.replace(/\n/g, '\r\n')}`).errors;
    expect(crlf).toEqual(lf);
    expect(lf.map((e) => [e.line, e.column])).toEqual([[12, 16]]);
  });

  it('reports errors in the order of the file', () => {
    const text = program(
      '  - key: b',
      '    title: B',
      '    phase: nowhere',
      '    targetDay: 5',
      '    dependsOn: [ghost]',
      '  - key: b',
      '    title: B again',
      '    phase: all',
      '    targetDay: 5',
    );
    const lines = checkProgramYaml(text).errors.map((e: LocatedIssue) => e.line);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    expect(lines).toHaveLength(3);
  });

  it('defaults the file name to <input>', () => {
    const [issue] = checkProgramYaml('key: 1\n').errors;
    expect(issue?.file).toBe('<input>');
    expect(issue === undefined ? '' : formatIssue(issue)).toMatch(/^<input>:1:1: /);
  });
});

describe('serializeProgramYaml', () => {
  it('writes fields in the order of the schema, and reads back to the same program', () => {
    const text = serializeProgramYaml(sampleProgram);
    const back = parseProgramYaml(text);
    expect(back).toEqual({ ok: true, value: sampleProgram });
    expect(text.split('\n').slice(0, 3)).toEqual([
      'key: standard-onboarding',
      'name: Standard onboarding',
      'schedule:',
    ]);
    const integration = text.slice(text.indexOf('  - key: integration'));
    expect(integration.split('\n').slice(0, 8)).toEqual([
      '  - key: integration',
      '    title: CRM integration live',
      '    phase: foundation',
      '    targetDay: 14',
      '    dependsOn: [kickoff]',
      '    owner: specialist',
      '    verification: [auto, client]',
      '    criteria: event_count("Contact Synced") >= 100',
    ]);
  });

  it('orders the fields of a program written in any order the same way', () => {
    const parsed = parseProgramDefinition({
      milestones: [{ targetDay: 1, phase: 'all', title: 'A', key: 'a' }],
      phases: [{ endDay: 9, startDay: 0, name: 'All', key: 'all' }],
      name: 'P',
      key: 'p',
    });
    if (!parsed.ok) throw new Error('expected a valid program');
    expect(
      serializeProgramYaml(parsed.value, { schema: '../schemas/program.schema.json' }),
    ).toBe(`# yaml-language-server: $schema=../schemas/program.schema.json

key: p
name: P
schedule:
  dayCounting: calendar

phases:
  - key: all
    name: All
    startDay: 0
    endDay: 9

milestones:
  - key: a
    title: A
    phase: all
    targetDay: 1
    owner: csm
    verification: [csm]
`);
  });

  it('writes multi-line criteria as a | block and quotes what YAML would misread', () => {
    const parsed = parseProgramDefinition({
      key: 'p',
      name: 'P',
      phases: [{ key: 'all', name: 'All', startDay: 0, endDay: 9 }],
      milestones: [
        {
          key: 'a',
          title: 'Step: one',
          phase: 'all',
          targetDay: 1,
          verification: ['auto'],
          criteria: 'event_count("Workflow Completed", {"status": "success"}) >= 1\n  && true',
        },
      ],
    });
    if (!parsed.ok) throw new Error('expected a valid program');
    const text = serializeProgramYaml(parsed.value);
    expect(text).toContain(
      '    criteria: |-\n      event_count("Workflow Completed", {"status": "success"}) >= 1\n        && true\n',
    );
    expect(parseProgramYaml(text)).toEqual(parsed);
  });
});
