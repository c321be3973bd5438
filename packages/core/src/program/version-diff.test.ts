import { describe, expect, it } from 'vitest';
import { initialProgress, type MilestoneProgress } from '../progress/progress.js';
import { csm, milestone, program } from '../testing/fixtures.js';
import { t0, t1 } from '../testing/progress-helpers.js';
import { diffProgramVersions, migrateProgress } from './version-diff.js';

const v1 = program([
  milestone('kickoff', 3),
  milestone('integration', 14, ['kickoff']),
  milestone('training', 18, ['integration']),
  milestone('legacy', 20, ['kickoff']),
]);
const v2 = program([
  milestone('kickoff', 3),
  milestone('integration', 10, ['kickoff']),
  milestone('sso', 12, ['kickoff']),
  milestone('training', 18, ['integration', 'sso']),
]);

describe('diffProgramVersions', () => {
  it('lists milestones added, removed, re-dated and re-wired', () => {
    expect(diffProgramVersions(v1, v2)).toEqual({
      added: ['sso'],
      removed: ['legacy'],
      redated: [{ key: 'integration', fromDay: 14, toDay: 10 }],
      dependencyChanges: [{ key: 'training', added: ['sso'], removed: [] }],
      unchanged: false,
    });
  });

  it('finds nothing between a version and itself', () => {
    expect(diffProgramVersions(v1, v1)).toMatchObject({ unchanged: true, added: [], removed: [] });
  });
});

describe('migrateProgress', () => {
  const completed = (row: MilestoneProgress): MilestoneProgress => ({
    ...row,
    status: 'completed',
    completedAt: t1,
    completionSource: 'csm',
    verifiedBy: csm,
  });

  it('keeps completions by key, opens or locks the rest by dependencies, drops removed ones', () => {
    const start = initialProgress(v1, t0, {});
    const progress = start.map((row) =>
      row.milestoneKey === 'kickoff' || row.milestoneKey === 'legacy' ? completed(row) : row,
    );
    // integration opened when kickoff completed
    const withOpen = progress.map((row) =>
      row.milestoneKey === 'integration' ? { ...row, status: 'open' as const, openedAt: t1 } : row,
    );
    const at = '2026-03-05T00:00:00.000Z';
    const migrated = migrateProgress(v2, withOpen, at, {});
    const byKey = new Map(migrated.progress.map((row) => [row.milestoneKey, row]));
    expect(migrated.progress.map((row) => row.milestoneKey)).toEqual([
      'kickoff',
      'integration',
      'sso',
      'training',
    ]);
    expect(byKey.get('kickoff')).toMatchObject({ status: 'completed', completedAt: t1 });
    expect(byKey.get('integration')).toMatchObject({ status: 'open', openedAt: t1 });
    expect(byKey.get('sso')).toMatchObject({ status: 'open', openedAt: at });
    expect(byKey.get('training')).toMatchObject({ status: 'locked' });
    expect(migrated.added).toEqual(['sso']);
    expect(migrated.removed.map((row) => row.milestoneKey)).toEqual(['legacy']);
    expect(migrated.removed[0]).toMatchObject({ status: 'completed' });
  });

  it('locks an open milestone that gained an unfinished dependency', () => {
    const v3 = program([
      milestone('kickoff', 3),
      milestone('integration', 14, ['sso']),
      milestone('sso', 5),
    ]);
    const migrated = migrateProgress(v3, initialProgress(v1, t0, {}), t1, {});
    expect(migrated.progress.find((r) => r.milestoneKey === 'integration')?.status).toBe('locked');
    expect(migrated.progress.find((r) => r.milestoneKey === 'kickoff')).toMatchObject({
      status: 'open',
      openedAt: t0,
    });
  });
});
