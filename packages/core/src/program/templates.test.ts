import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCriteria } from '../criteria/compile-criteria.js';
import type { ProgramDefinition } from './program.js';
import {
  checkProgramYaml,
  formatIssue,
  parseProgramYaml,
  serializeProgramYaml,
} from './program-yaml.js';

// The built-in templates live at the top of the repository, next to the schema they name.
const folder = new URL('../../../../templates/', import.meta.url);
const names = readdirSync(folder)
  .filter((name) => name.endsWith('.yaml'))
  .sort();
const source = (name: string): string => readFileSync(new URL(name, folder), 'utf8');

function load(name: string): ProgramDefinition {
  const result = parseProgramYaml(source(name), `templates/${name}`);
  if (!result.ok) throw new Error(result.error.map((issue) => formatIssue(issue)).join('\n'));
  return result.value;
}

describe('built-in templates', () => {
  it('are the four documented ones', () => {
    expect(names).toEqual([
      'b2b-saas-60-day.yaml',
      'go-live-5-milestones.yaml',
      'product-led-checklist.yaml',
      'role-based-sets.yaml',
    ]);
  });

  describe.each(names)('%s', (name) => {
    it('parses with no error and no warning', () => {
      const check = checkProgramYaml(source(name), `templates/${name}`);
      expect([...check.errors, ...check.warnings].map((issue) => formatIssue(issue))).toEqual([]);
      expect(check.program?.key).toBe(name.replace(/\.yaml$/, ''));
    });

    it('names the published JSON Schema on its first line, for editors', () => {
      expect(source(name).split('\n')[0]).toBe(
        '# yaml-language-server: $schema=../schemas/program.schema.json',
      );
    });

    it('reads back to the same program once exported', () => {
      const program = load(name);
      expect(parseProgramYaml(serializeProgramYaml(program))).toEqual({ ok: true, value: program });
    });

    it('gives every milestone a playbook, and every auto milestone criteria that compile', () => {
      for (const milestone of load(name).milestones) {
        expect(milestone.playbook, milestone.key).toBeDefined();
        if (milestone.verification.includes('auto')) {
          expect(compileCriteria(milestone.criteria ?? '').ok, milestone.key).toBe(true);
        }
      }
    });
  });

  it('b2b-saas-60-day: 12 milestones in 4 phases, due on the listed days', () => {
    const program = load('b2b-saas-60-day.yaml');
    expect(program.phases.map((p) => [p.name, p.startDay, p.endDay])).toEqual([
      ['Foundation', 0, 14],
      ['Initial value', 15, 30],
      ['Adoption expansion', 31, 45],
      ['Sustained success', 46, 60],
    ]);
    expect(program.milestones.map((m) => [m.key, m.phase, m.targetDay])).toEqual([
      ['kickoff', 'foundation', 3],
      ['admin-access', 'foundation', 5],
      ['workspace-configured', 'foundation', 7],
      ['primary-integration', 'foundation', 14],
      ['training', 'initial-value', 18],
      ['first-workflow', 'initial-value', 21],
      ['user-activation', 'initial-value', 25],
      ['first-outcome', 'initial-value', 30],
      ['multi-workflow', 'adoption-expansion', 38],
      ['team-adoption', 'adoption-expansion', 45],
      ['business-review', 'sustained-success', 55],
      ['self-service', 'sustained-success', 60],
    ]);
    const byKey = new Map(program.milestones.map((m) => [m.key, m]));
    expect(byKey.get('first-workflow')?.firstValue).toBe(true);
    expect(byKey.get('primary-integration')?.criteria).toContain(
      'event_count("Record Synced") >= 100',
    );
    expect(byKey.get('user-activation')?.criteria).toBe('active_users(duration("168h")) >= 5');
    const methods = new Set(program.milestones.flatMap((m) => m.verification));
    expect([...methods].sort()).toEqual(['auto', 'client', 'csm']);
  });

  it('go-live-5-milestones: five client-verified steps to a signed-off go-live', () => {
    const program = load('go-live-5-milestones.yaml');
    expect(program.milestones.map((m) => [m.key, m.verification])).toEqual([
      ['kickoff-complete', ['csm', 'client']],
      ['setup-confirmed', ['client']],
      ['first-value', ['auto']],
      ['training-confirmed', ['client']],
      ['go-live', ['client']],
    ]);
    const [kickoff, , firstValue, , goLive] = program.milestones;
    expect(kickoff?.tasks?.map((t) => t.title)).toEqual([
      'Lock the go-live date in writing',
      'Put a named owner on every client task of the plan',
      "Send the plan recap; the client's project lead acknowledges it",
    ]);
    expect(firstValue?.firstValue).toBe(true);
    expect(goLive?.goLive).toBe(true);
    expect(JSON.stringify(goLive?.playbook)).toContain('30-day review');
  });

  it('role-based-sets: milestone sets for administrators, power users and operators', () => {
    const program = load('role-based-sets.yaml');
    const audiences = new Map<string, string[]>();
    for (const milestone of program.milestones) {
      for (const role of milestone.audience ?? ['everyone']) {
        audiences.set(role, [...(audiences.get(role) ?? []), milestone.key]);
      }
    }
    expect(Object.fromEntries(audiences)).toEqual({
      everyone: ['kickoff'],
      admin: ['sso-enforced', 'roles-assigned', 'integration-ready'],
      'power-user': ['first-automation', 'advanced-configuration', 'automation-at-scale'],
      operator: ['operator-dashboard', 'alerts-configured', 'reliable-operations'],
    });
  });

  it('product-led-checklist: five automatic steps owned by the customer in the first week', () => {
    const program = load('product-led-checklist.yaml');
    expect(program.milestones.map((m) => [m.key, m.targetDay, m.criteria])).toEqual([
      ['workspace-created', 0, 'event_count("Workspace Created") >= 1'],
      ['members-invited', 2, 'event_count("Member Invited") >= 3'],
      ['first-project', 3, 'event_count("Project Created") >= 1'],
      ['tasks-added', 5, 'event_count("Task Created") >= 5'],
      ['first-workflow', 7, 'event_count("Workflow Completed", {"status": "success"}) >= 1'],
    ]);
    for (const milestone of program.milestones) {
      expect(milestone.verification).toEqual(['auto']);
      expect(milestone.owner).toBe('customer');
    }
  });
});
