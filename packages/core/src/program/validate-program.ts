import { compileCriteria } from '../criteria/compile-criteria.js';
import { findDependencyCycles } from './dependency-graph.js';
import type { ProgramDefinition } from './program.js';

/** One problem in a program definition; `path` points into the definition as authored. */
export interface ProgramIssue {
  code: string;
  path: (string | number)[];
  message: string;
  /**
   * Where inside the text at `path` the fault is, when that text is an expression: 1-based line
   * and column (UTF-16 code units) of an `invalid_criteria` fault inside the milestone's criteria.
   */
  position?: { line: number; column: number };
}

export interface ProgramValidation {
  errors: ProgramIssue[];
  warnings: ProgramIssue[];
}

const quote = (key: string): string => `"${key}"`;

/**
 * Checks what the schema cannot: keys are unique, references resolve, dependencies form a DAG,
 * target days fall within their phase, criteria parse and type-check. Every problem is reported, not just the first, so an
 * author can fix a definition in one pass.
 */
export function validateProgram(program: ProgramDefinition): ProgramValidation {
  const errors: ProgramIssue[] = [];
  const warnings: ProgramIssue[] = [];

  const phases = new Map<string, ProgramDefinition['phases'][number]>();
  program.phases.forEach((phase, index) => {
    if (phases.has(phase.key)) {
      errors.push({
        code: 'duplicate_phase_key',
        path: ['phases', index, 'key'],
        message: `Phase key ${quote(phase.key)} is used more than once; phase keys must be unique`,
      });
    } else {
      phases.set(phase.key, phase);
    }
  });

  const milestones = new Map<string, ProgramDefinition['milestones'][number]>();
  program.milestones.forEach((milestone, index) => {
    if (milestones.has(milestone.key)) {
      errors.push({
        code: 'duplicate_milestone_key',
        path: ['milestones', index, 'key'],
        message: `Milestone key ${quote(milestone.key)} is used more than once; milestone keys must be unique`,
      });
    } else {
      milestones.set(milestone.key, milestone);
    }
  });

  program.milestones.forEach((milestone, index) => {
    const at = ['milestones', index] as const;
    const phase = phases.get(milestone.phase);
    if (phase === undefined) {
      errors.push({
        code: 'unknown_phase',
        path: [...at, 'phase'],
        message: `Milestone ${quote(milestone.key)} is in phase ${quote(milestone.phase)}, which does not exist (phases: ${[...phases.keys()].map(quote).join(', ')})`,
      });
    } else if (milestone.targetDay < phase.startDay || milestone.targetDay > phase.endDay) {
      errors.push({
        code: 'outside_phase',
        path: [...at, 'targetDay'],
        message: `Milestone ${quote(milestone.key)} is due on day ${milestone.targetDay}, outside its phase ${quote(phase.key)} (days ${phase.startDay}-${phase.endDay})`,
      });
    }

    milestone.dependsOn.forEach((depKey, depIndex) => {
      const path = [...at, 'dependsOn', depIndex];
      if (depKey === milestone.key) {
        errors.push({
          code: 'self_dependency',
          path,
          message: `Milestone ${quote(milestone.key)} depends on itself`,
        });
        return;
      }
      const dep = milestones.get(depKey);
      if (dep === undefined) {
        errors.push({
          code: 'unknown_dependency',
          path,
          message: `Milestone ${quote(milestone.key)} depends on ${quote(depKey)}, which is not a milestone of this program`,
        });
        return;
      }
      if (milestone.targetDay < dep.targetDay) {
        warnings.push({
          code: 'due_before_dependency',
          path: [...at, 'targetDay'],
          message: `Milestone ${quote(milestone.key)} is due on day ${milestone.targetDay}, before its dependency ${quote(depKey)} (day ${dep.targetDay}); it cannot be done on time unless ${quote(depKey)} is early`,
        });
      }
    });
  });

  program.milestones.forEach((milestone, index) => {
    if (milestone.criteria === undefined) return;
    const compiled = compileCriteria(milestone.criteria);
    if (compiled.ok) return;
    for (const fault of compiled.error) {
      errors.push({
        code: 'invalid_criteria',
        path: ['milestones', index, 'criteria'],
        message: `Milestone ${quote(milestone.key)}: criteria: ${fault.message}`,
        position: { line: fault.line, column: fault.column },
      });
    }
  });

  const firstIndex = new Map<string, number>();
  program.milestones.forEach((milestone, index) => {
    if (!firstIndex.has(milestone.key)) firstIndex.set(milestone.key, index);
  });
  for (const cycle of findDependencyCycles(program.milestones)) {
    if (cycle.length <= 2) continue; // [key, key] is a self-dependency, reported above
    // The cycle closes where its first milestone depends on the last one before the repeat.
    const index = firstIndex.get(cycle[0] ?? '') ?? 0;
    const closing = program.milestones[index]?.dependsOn.indexOf(cycle[cycle.length - 2] ?? '');
    errors.push({
      code: 'dependency_cycle',
      path: ['milestones', index, 'dependsOn', closing ?? 0],
      message: `Milestones depend on each other in a cycle: ${cycle.join(' → ')}; remove one of these dependencies`,
    });
  }

  return { errors, warnings };
}
