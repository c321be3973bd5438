import { describe, expect, it } from 'vitest';
import { milestone, program, sampleProgram } from '../testing/fixtures.js';
import {
  applicableMilestones,
  effectiveDependencies,
  initialProgress,
  lockedProgress,
} from './progress.js';

const at = '2026-03-02T09:00:00.000Z';

describe('applicableMilestones', () => {
  it('keeps unrestricted milestones and those for the account’s segment', () => {
    const keys = (segment: string | null | undefined) =>
      applicableMilestones(sampleProgram, { segment }).map((m) => m.key);
    expect(keys('enterprise')).toContain('sso');
    expect(keys('smb')).not.toContain('sso');
    expect(keys(null)).not.toContain('sso');
    expect(keys(undefined)).toEqual([
      'kickoff',
      'integration',
      'training',
      'first-workflow',
      'go-live',
    ]);
  });
});

describe('effectiveDependencies', () => {
  it('replaces a non-applicable dependency by its own dependencies', () => {
    // SMB accounts skip "sso", which depends on "integration": go-live still waits for it.
    const smb = applicableMilestones(sampleProgram, { segment: 'smb' }).map((m) => m.key);
    const deps = effectiveDependencies(sampleProgram, new Set(smb));
    expect(deps.get('go-live')).toEqual(['first-workflow', 'integration']);
    const enterprise = applicableMilestones(sampleProgram, { segment: 'enterprise' }).map(
      (m) => m.key,
    );
    expect(effectiveDependencies(sampleProgram, new Set(enterprise)).get('go-live')).toEqual([
      'first-workflow',
      'sso',
    ]);
  });

  it('treats a skipped dependency with no dependencies of its own as satisfied', () => {
    const p = program([
      milestone('sso', 1, [], { segments: ['enterprise'] }),
      milestone('roll-out', 2, ['sso']),
    ]);
    expect(effectiveDependencies(p, new Set(['roll-out'])).get('roll-out')).toEqual([]);
  });
});

describe('initialProgress', () => {
  it('opens milestones without dependencies and locks the rest', () => {
    const progress = initialProgress(sampleProgram, at, { segment: 'enterprise' });
    expect(progress.map((p) => [p.milestoneKey, p.status, p.openedAt])).toEqual([
      ['kickoff', 'open', at],
      ['integration', 'locked', null],
      ['training', 'locked', null],
      ['first-workflow', 'locked', null],
      ['sso', 'locked', null],
      ['go-live', 'locked', null],
    ]);
    expect(progress[1]).toEqual(lockedProgress('integration'));
  });

  it('opens a milestone whose only dependency does not apply to the account', () => {
    const p = program([
      milestone('sso', 1, [], { segments: ['enterprise'] }),
      milestone('roll-out', 2, ['sso']),
    ]);
    expect(initialProgress(p, at, { segment: 'smb' })).toEqual([
      { ...lockedProgress('roll-out'), status: 'open', openedAt: at },
    ]);
  });
});
