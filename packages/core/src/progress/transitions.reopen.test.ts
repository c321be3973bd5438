import { describe, expect, it } from 'vitest';
import { csm, milestone, program, sampleProgram } from '../testing/fixtures.js';
import {
  complete,
  manager,
  start,
  statuses,
  t0,
  t1,
  t2,
  t3,
  unwrap,
} from '../testing/progress-helpers.js';
import { initialProgress } from './progress.js';
import { reopenMilestone, waiveMilestone } from './transitions.js';

describe('reopenMilestone', () => {
  const advanced = () => {
    let progress = complete(start(), 'kickoff');
    progress = complete(progress, 'integration', t2);
    return progress; // training and sso open, first-workflow locked
  };

  it('reopens a waived milestone as open and clears the waiver', () => {
    let progress = complete(start(), 'kickoff'); // integration, training open
    progress = unwrap(
      waiveMilestone(sampleProgram, progress, {
        milestoneKey: 'training',
        at: t1,
        actor: manager,
        reason: 'Trained already',
      }),
    ).progress;
    const before = progress.find((p) => p.milestoneKey === 'training');
    const { progress: after, changes } = unwrap(
      reopenMilestone(sampleProgram, progress, {
        milestoneKey: 'training',
        at: t3,
        actor: manager,
        reason: 'New admins joined',
      }),
    );
    expect(after.find((p) => p.milestoneKey === 'training')).toEqual({
      milestoneKey: 'training',
      status: 'open',
      openedAt: t3,
      completedAt: null,
      completionSource: null,
      evidence: null,
      verifiedBy: null,
      waivedAt: null,
      waivedBy: null,
      waiverReason: null,
    });
    expect(changes).toEqual([
      expect.objectContaining({
        type: 'milestone.reopened',
        milestoneKey: 'training',
        reason: 'New admins joined',
        before,
      }),
    ]);
  });

  it('locks open dependents that no longer have their dependencies', () => {
    const progress = advanced();
    const { progress: after, changes } = unwrap(
      reopenMilestone(sampleProgram, progress, {
        milestoneKey: 'integration',
        at: t3,
        actor: csm,
        reason: 'Sync broke',
      }),
    );
    expect(statuses(after)).toMatchObject({ integration: 'open', sso: 'locked', training: 'open' });
    expect(changes.map((c) => [c.type, c.milestoneKey, c.reason])).toEqual([
      ['milestone.reopened', 'integration', 'Sync broke'],
      ['milestone.locked', 'sso', 'Waiting again for "integration"'],
    ]);
    expect(after.find((p) => p.milestoneKey === 'sso')?.openedAt).toBeNull();
  });

  it('refuses while dependents are done, listing them, unless cascading', () => {
    let progress = advanced();
    progress = complete(progress, 'sso', t3);
    progress = complete(progress, 'training', t3);
    progress = complete(progress, 'first-workflow', t3);
    const refused = reopenMilestone(sampleProgram, progress, {
      milestoneKey: 'integration',
      at: t3,
      actor: csm,
      reason: 'Sync broke',
    });
    expect(refused.ok ? null : refused.error).toMatchObject({
      code: 'dependents_completed',
      dependents: ['first-workflow', 'sso'],
    });

    const { progress: after, changes } = unwrap(
      reopenMilestone(sampleProgram, progress, {
        milestoneKey: 'integration',
        at: t3,
        actor: csm,
        reason: 'Sync broke',
        cascade: true,
      }),
    );
    // go-live was open on first-workflow and sso: it locks again.
    expect(statuses(after)).toEqual({
      kickoff: 'completed',
      integration: 'open',
      training: 'completed',
      'first-workflow': 'locked',
      sso: 'locked',
      'go-live': 'locked',
    });
    expect(changes.map((c) => [c.type, c.milestoneKey])).toEqual([
      ['milestone.reopened', 'integration'],
      ['milestone.reopened', 'first-workflow'],
      ['milestone.reopened', 'sso'],
      ['milestone.locked', 'go-live'],
    ]);
    expect(changes[1]?.before.completedAt).toBe(t3);
    expect(changes[1]?.after.completedAt).toBeNull();
  });

  it('requires a reason and refuses a milestone that is not done', () => {
    const open = reopenMilestone(sampleProgram, start(), {
      milestoneKey: 'kickoff',
      at: t1,
      actor: csm,
      reason: 'x',
    });
    expect(open.ok ? null : open.error).toMatchObject({ code: 'not_done', status: 'open' });
    const noReason = reopenMilestone(sampleProgram, complete(start(), 'kickoff'), {
      milestoneKey: 'kickoff',
      at: t2,
      actor: csm,
      reason: '',
    });
    expect(noReason.ok ? null : noReason.error.code).toBe('reason_required');
  });

  it('reopens into locked when its own dependency is not done', () => {
    // a ← b: waive b while a is open, then reopen b: it stays locked behind a.
    const p = program([milestone('a', 1), milestone('b', 2, ['a'])]);
    let progress = initialProgress(p, t0, {});
    progress = unwrap(
      waiveMilestone(p, progress, { milestoneKey: 'b', at: t1, actor: manager, reason: 'n/a' }),
    ).progress;
    const { progress: after, changes } = unwrap(
      reopenMilestone(p, progress, {
        milestoneKey: 'b',
        at: t2,
        actor: manager,
        reason: 'needed after all',
      }),
    );
    expect(statuses(after)).toEqual({ a: 'open', b: 'locked' });
    expect(changes.map((c) => [c.type, c.after.status])).toEqual([
      ['milestone.reopened', 'locked'],
    ]);
  });
});
