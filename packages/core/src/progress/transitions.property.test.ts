import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProgramDefinition, VerificationMethod } from '../program/program.js';
import { milestoneSchedule } from '../schedule/milestone-schedule.js';
import { csm, milestone, program } from '../testing/fixtures.js';
import {
  type AccountSegment,
  type CompletionSource,
  effectiveDependencies,
  initialProgress,
  isDone,
  type MilestoneProgress,
} from './progress.js';
import type { TransitionResult } from './progress-change.js';
import { completeMilestone, reopenMilestone, waiveMilestone } from './transitions.js';

/** Random DAG programs: milestone i may depend on any earlier one, some only for a segment. */
const programs = fc
  .array(
    fc.record({
      deps: fc.uniqueArray(fc.nat(), { maxLength: 3 }),
      targetDay: fc.integer({ min: 0, max: 60 }),
      segment: fc.option(fc.constantFrom('enterprise', 'smb'), { freq: 4 }),
    }),
    { minLength: 1, maxLength: 9 },
  )
  .map((specs) =>
    program(
      specs.map((spec, i) =>
        milestone(
          `m${i}`,
          spec.targetDay,
          i === 0 ? [] : [...new Set(spec.deps.map((d) => `m${d % i}`))],
          spec.segment === null ? {} : { segments: [spec.segment] },
        ),
      ),
    ),
  );

const METHOD_OF: Record<CompletionSource, VerificationMethod> = {
  automatic: 'auto',
  csm: 'csm',
  client: 'client',
};

/** Like `programs`, with each milestone verified by a random non-empty set of methods. */
const verifiedPrograms = fc
  .array(
    fc.record({
      deps: fc.uniqueArray(fc.nat(), { maxLength: 3 }),
      verification: fc.subarray<VerificationMethod>(['auto', 'csm', 'client'], { minLength: 1 }),
    }),
    { minLength: 1, maxLength: 7 },
  )
  .map((specs) =>
    program(
      specs.map((spec, i) =>
        milestone(`m${i}`, i, i === 0 ? [] : [...new Set(spec.deps.map((d) => `m${d % i}`))], {
          verification: spec.verification,
          ...(spec.verification.includes('auto') && { criteria: `event_count("E${i}") >= 1` }),
        }),
      ),
    ),
  );

const operations = fc.array(
  fc.record({
    kind: fc.constantFrom('complete', 'waive', 'reopen'),
    target: fc.nat(),
    cascade: fc.boolean(),
  }),
  { maxLength: 40 },
);

const accounts = fc.constantFrom<AccountSegment>({ segment: 'enterprise' }, { segment: 'smb' }, {});

function at(step: number): string {
  return new Date(Date.UTC(2026, 2, 2, 9) + step * 3_600_000).toISOString();
}

function apply(
  p: ProgramDefinition,
  progress: MilestoneProgress[],
  op: { kind: string; target: number; cascade: boolean },
  step: number,
): { key: string; result: TransitionResult } {
  const key = progress[op.target % progress.length]?.milestoneKey ?? 'none';
  const base = { milestoneKey: key, at: at(step), actor: csm };
  if (op.kind === 'complete') {
    return { key, result: completeMilestone(p, progress, { ...base, source: 'csm' }) };
  }
  if (op.kind === 'waive')
    return { key, result: waiveMilestone(p, progress, { ...base, reason: 'not needed' }) };
  return {
    key,
    result: reopenMilestone(p, progress, { ...base, reason: 'redo', cascade: op.cascade }),
  };
}

/** Open exactly when every gating dependency is satisfied; never completed without them. */
function assertConsistent(p: ProgramDefinition, progress: MilestoneProgress[]): void {
  const status = new Map(progress.map((row) => [row.milestoneKey, row.status]));
  const deps = effectiveDependencies(p, new Set(status.keys()));
  for (const row of progress) {
    const direct = p.milestones.find((m) => m.key === row.milestoneKey)?.dependsOn ?? [];
    const gating = [
      ...new Set([...direct.filter((d) => status.has(d)), ...(deps.get(row.milestoneKey) ?? [])]),
    ];
    const satisfied = gating.every((d) => {
      const s = status.get(d);
      return s !== undefined && isDone(s);
    });
    if (row.status === 'open' || row.status === 'completed') expect(satisfied).toBe(true);
    if (row.status === 'locked') expect(satisfied).toBe(false);
    if (row.status === 'locked') expect(row.openedAt).toBeNull();
    if (row.status === 'open' || row.status === 'completed') expect(row.openedAt).not.toBeNull();
  }
}

describe('transition properties', () => {
  it('no milestone is ever open or completed while a dependency is not done', () => {
    fc.assert(
      fc.property(programs, accounts, operations, (p, account, ops) => {
        let progress = initialProgress(p, at(0), account);
        fc.pre(progress.length > 0);
        assertConsistent(p, progress);
        ops.forEach((op, index) => {
          const before = progress;
          const target = before[op.target % before.length];
          const { key, result } = apply(p, before, op, index + 1);

          // Allowed transitions succeed, so the sequence really explores the state space.
          if (op.kind === 'complete' && target?.status === 'open') expect(result.ok).toBe(true);
          if (op.kind === 'waive' && (target?.status === 'open' || target?.status === 'locked')) {
            expect(result.ok).toBe(true);
          }
          if (op.kind === 'reopen' && op.cascade && target !== undefined && isDone(target.status)) {
            expect(result.ok).toBe(true);
          }
          if (!result.ok) return;

          const after = result.value.progress;
          const { changes } = result.value;
          expect(changes[0]?.milestoneKey).toBe(key);
          expect(new Set(changes.map((c) => c.milestoneKey)).size).toBe(changes.length);
          // Every difference between before and after is explained by exactly one change event.
          before.forEach((row, i) => {
            const change = changes.find((c) => c.milestoneKey === row.milestoneKey);
            if (change === undefined) expect(after[i]).toEqual(row);
            else {
              expect(change.before).toEqual(row);
              expect(change.after).toEqual(after[i]);
            }
          });
          assertConsistent(p, after);
          progress = after;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('completes exactly when the verification lists the source; waivers ignore verification', () => {
    const steps = fc.array(
      fc.record({
        kind: fc.constantFrom('complete', 'waive'),
        target: fc.nat(),
        source: fc.constantFrom<CompletionSource>('automatic', 'csm', 'client'),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(verifiedPrograms, steps, (p, ops) => {
        let progress = initialProgress(p, at(0), {});
        ops.forEach((op, index) => {
          const row = progress[op.target % progress.length];
          const milestone = p.milestones.find((m) => m.key === row?.milestoneKey);
          if (row === undefined || milestone === undefined) throw new Error('no such row');
          const base = { milestoneKey: row.milestoneKey, at: at(index + 1) };
          const allowed = milestone.verification.includes(METHOD_OF[op.source]);
          let result: TransitionResult;
          if (op.kind === 'complete') {
            result = completeMilestone(p, progress, { ...base, source: op.source, actor: csm });
            if (row.status === 'open') expect(result.ok).toBe(allowed);
            if (!isDone(row.status) && !allowed) {
              expect(result.ok ? null : result.error).toMatchObject({
                code: 'verification_not_allowed',
                milestoneKey: row.milestoneKey,
                source: op.source,
              });
              if (!result.ok && result.error.code === 'verification_not_allowed') {
                expect([...result.error.allowed].sort()).toEqual(
                  [...milestone.verification].sort(),
                );
                expect(result.error.message).toContain(`"${row.milestoneKey}"`);
              }
            }
            if (result.ok) {
              const after = result.value.progress.find((r) => r.milestoneKey === row.milestoneKey);
              expect(after?.completionSource).toBe(op.source);
            }
          } else {
            result = waiveMilestone(p, progress, { ...base, actor: csm, reason: 'not needed' });
            expect(result.ok).toBe(!isDone(row.status));
          }
          if (result.ok) progress = result.value.progress;
        });
      }),
      { numRuns: 200 },
    );
  });

  it('due dates never change when progress changes', () => {
    fc.assert(
      fc.property(
        programs,
        accounts,
        operations,
        fc.constantFrom('UTC', 'America/New_York', 'Europe/Berlin'),
        (p, account, ops, timeZone) => {
          const enrollment = { startedAt: at(0), timeZone };
          const calendar = { holidays: ['2026-03-09'] };
          const schedule = milestoneSchedule(p, enrollment, calendar);
          let progress = initialProgress(p, at(0), account);
          fc.pre(progress.length > 0);
          ops.forEach((op, index) => {
            const { result } = apply(p, progress, op, index + 1);
            if (result.ok) progress = result.value.progress;
            // The schedule is a function of program, start and calendar alone; progress is not an input.
            expect(milestoneSchedule(p, enrollment, calendar)).toEqual(schedule);
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});
