import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  directDependents,
  findDependencyCycle,
  findDependencyCycles,
  topologicalOrder,
  transitiveDependents,
} from './dependency-graph.js';

const node = (key: string, dependsOn: string[] = []) => ({ key, dependsOn });

describe('dependency graph', () => {
  const ladder = [
    node('kickoff'),
    node('training', ['kickoff']),
    node('integration', ['kickoff']),
    node('first-value', ['integration', 'training']),
    node('go-live', ['first-value']),
    node('extra'),
  ];

  it('finds no cycle in a DAG and ignores unknown dependencies', () => {
    expect(findDependencyCycle([...ladder, node('x', ['unknown'])])).toBeNull();
  });

  it('returns a cycle in dependency order starting at the earliest milestone', () => {
    expect(
      findDependencyCycle([node('training', ['integration']), node('integration', ['training'])]),
    ).toEqual(['training', 'integration', 'training']);
    expect(findDependencyCycle([node('a', ['c']), node('b', ['a']), node('c', ['b'])])).toEqual([
      'a',
      'b',
      'c',
      'a',
    ]);
  });

  it('treats a self-dependency as a cycle of one', () => {
    expect(findDependencyCycle([node('a', ['a'])])).toEqual(['a', 'a']);
  });

  it('finds separate cycles', () => {
    expect(
      findDependencyCycles([
        node('a', ['b']),
        node('b', ['a']),
        node('c', ['d']),
        node('d', ['c']),
      ]),
    ).toEqual([
      ['a', 'b', 'a'],
      ['c', 'd', 'c'],
    ]);
  });

  it('orders dependencies first, keeping program order among free milestones', () => {
    expect(topologicalOrder(ladder)).toEqual({
      ok: true,
      value: ['kickoff', 'training', 'integration', 'first-value', 'go-live', 'extra'],
    });
    expect(topologicalOrder([node('b', ['a']), node('a')])).toEqual({
      ok: true,
      value: ['a', 'b'],
    });
  });

  it('refuses to order a cyclic graph and returns the cycle', () => {
    expect(topologicalOrder([node('x'), node('a', ['b']), node('b', ['a'])])).toEqual({
      ok: false,
      error: { cycle: ['a', 'b', 'a'] },
    });
  });

  it('lists direct and transitive dependents in program order', () => {
    expect(directDependents(ladder, 'kickoff')).toEqual(['training', 'integration']);
    expect(transitiveDependents(ladder, 'kickoff')).toEqual([
      'training',
      'integration',
      'first-value',
      'go-live',
    ]);
    expect(transitiveDependents(ladder, 'go-live')).toEqual([]);
  });

  it('property: in any DAG the order puts every dependency before its dependent', () => {
    const dag = fc
      .array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 12 })
      .map((picks) =>
        picks.map((raw, i) => node(`m${i}`, i === 0 ? [] : raw.map((r) => `m${r % i}`))),
      );
    fc.assert(
      fc.property(dag, (nodes) => {
        expect(findDependencyCycle(nodes)).toBeNull();
        const order = topologicalOrder(nodes);
        if (!order.ok) throw new Error('a DAG must have an order');
        expect([...order.value].sort()).toEqual(nodes.map((n) => n.key).sort());
        for (const n of nodes) {
          for (const dep of n.dependsOn) {
            expect(order.value.indexOf(dep)).toBeLessThan(order.value.indexOf(n.key));
            expect(transitiveDependents(nodes, dep)).toContain(n.key);
          }
        }
      }),
    );
  });

  it('property: adding a back edge to a DAG path creates a cycle along that path', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), (length) => {
        const chain = Array.from({ length }, (_, i) => node(`m${i}`, i === 0 ? [] : [`m${i - 1}`]));
        const cyclic = chain.map((n, i) => (i === 0 ? node(n.key, [`m${length - 1}`]) : n));
        expect(findDependencyCycle(cyclic)).toEqual([...chain.map((n) => n.key), 'm0']);
      }),
    );
  });
});
