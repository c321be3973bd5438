import { err, ok, type Result } from '../result.js';

/** The part of a milestone the graph needs; works on raw input as well as on parsed programs. */
export interface DependencyNode {
  key: string;
  dependsOn: readonly string[];
}

/**
 * Edges point from a dependency to the milestone that depends on it. Dependencies on unknown
 * keys are left out (validateProgram reports them); when a key is duplicated, the first
 * milestone with it wins, so the graph stays a function of the keys.
 */
function buildGraph(nodes: readonly DependencyNode[]): Map<string, string[]> {
  const dependsOn = new Map<string, string[]>();
  for (const node of nodes) {
    if (!dependsOn.has(node.key)) dependsOn.set(node.key, [...new Set(node.dependsOn)]);
  }
  for (const [key, deps] of dependsOn) {
    dependsOn.set(
      key,
      deps.filter((dep) => dependsOn.has(dep)),
    );
  }
  return dependsOn;
}

/**
 * Every elementary cycle found by a depth-first search (one per back edge), each written in
 * dependency order — each key is a dependency of the next — starting from the key that comes
 * first in the program and repeating it at the end: ['integration', 'training', 'integration']
 * means training depends on integration and integration depends on training.
 * A self-dependency is the cycle [key, key].
 */
export function findDependencyCycles(nodes: readonly DependencyNode[]): string[][] {
  const dependsOn = buildGraph(nodes);
  const order = new Map([...dependsOn.keys()].map((key, index) => [key, index]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();

  // Walking "depends on" edges yields cycles against dependency order; they are reversed below.
  const visit = (key: string): void => {
    state.set(key, 'visiting');
    stack.push(key);
    for (const dep of dependsOn.get(key) ?? []) {
      const depState = state.get(dep);
      if (depState === 'visiting') {
        const walked = stack.slice(stack.indexOf(dep));
        const cycle = canonicalCycle(walked.reverse(), order);
        const id = cycle.join('\u0000');
        if (!seen.has(id)) {
          seen.add(id);
          cycles.push(cycle);
        }
      } else if (depState === undefined) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(key, 'done');
  };

  for (const key of dependsOn.keys()) {
    if (!state.has(key)) visit(key);
  }
  return cycles;
}

/** The first dependency cycle, or null when the milestones form a DAG. */
export function findDependencyCycle(nodes: readonly DependencyNode[]): string[] | null {
  return findDependencyCycles(nodes)[0] ?? null;
}

function canonicalCycle(keys: string[], order: Map<string, number>): string[] {
  let start = 0;
  keys.forEach((key, index) => {
    const current = keys[start];
    if (current !== undefined && (order.get(key) ?? 0) < (order.get(current) ?? 0)) start = index;
  });
  const rotated = [...keys.slice(start), ...keys.slice(0, start)];
  return [...rotated, rotated[0] ?? ''];
}

/**
 * Keys ordered so every milestone comes after its dependencies; among milestones that are free
 * at the same time the program's own order is kept, so the result is stable and readable.
 */
export function topologicalOrder(
  nodes: readonly DependencyNode[],
): Result<string[], { cycle: string[] }> {
  const dependsOn = buildGraph(nodes);
  const remaining = new Map([...dependsOn].map(([key, deps]) => [key, new Set(deps)]));
  const sorted: string[] = [];
  while (remaining.size > 0) {
    const free = [...remaining].find(([, deps]) => deps.size === 0)?.[0];
    if (free === undefined) {
      const cycle = findDependencyCycle(nodes);
      return err({ cycle: cycle ?? [] });
    }
    sorted.push(free);
    remaining.delete(free);
    for (const deps of remaining.values()) deps.delete(free);
  }
  return ok(sorted);
}

/** Milestones that depend on `key` directly, in program order. */
export function directDependents(nodes: readonly DependencyNode[], key: string): string[] {
  return [...buildGraph(nodes)]
    .filter(([, deps]) => deps.includes(key))
    .map(([dependent]) => dependent);
}

/** Milestones that depend on `key` directly or through others, in program order. */
export function transitiveDependents(nodes: readonly DependencyNode[], key: string): string[] {
  const dependsOn = buildGraph(nodes);
  const found = new Set<string>();
  const frontier = [key];
  for (let current = frontier.pop(); current !== undefined; current = frontier.pop()) {
    for (const [dependent, deps] of dependsOn) {
      if (deps.includes(current) && !found.has(dependent)) {
        found.add(dependent);
        frontier.push(dependent);
      }
    }
  }
  found.delete(key);
  return [...dependsOn.keys()].filter((candidate) => found.has(candidate));
}
