import { describe, expect, it } from 'vitest';
import type { VerificationMethod } from '../program/program.js';
import { csm, milestone, program, sampleProgram, system } from '../testing/fixtures.js';
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
import { type Actor, type CompletionSource, initialProgress } from './progress.js';
import { completeMilestone, waiveMilestone } from './transitions.js';

describe('completeMilestone', () => {
  it('completes an open milestone and opens the dependents it unlocks', () => {
    const before = start();
    const { progress, changes } = unwrap(
      completeMilestone(sampleProgram, before, {
        milestoneKey: 'kickoff',
        at: t1,
        source: 'client',
        evidence: { signedBy: 'ana@example.com' },
        actor: { type: 'contact', id: 'contact_1' },
      }),
    );
    expect(progress.find((p) => p.milestoneKey === 'kickoff')).toMatchObject({
      status: 'completed',
      openedAt: t0,
      completedAt: t1,
      completionSource: 'client',
      evidence: { signedBy: 'ana@example.com' },
      verifiedBy: { type: 'contact', id: 'contact_1' },
    });
    expect(statuses(progress)).toEqual({
      kickoff: 'completed',
      integration: 'open',
      training: 'open',
      'first-workflow': 'locked',
      sso: 'locked',
      'go-live': 'locked',
    });
    expect(changes.map((c) => [c.type, c.milestoneKey, c.after.openedAt])).toEqual([
      ['milestone.completed', 'kickoff', t0],
      ['milestone.opened', 'integration', t1],
      ['milestone.opened', 'training', t1],
    ]);
    expect(changes.every((c) => c.at === t1 && c.actor.id === 'contact_1')).toBe(true);
    expect(changes[1]?.before).toEqual(before[1]);
    expect(before[0]?.status).toBe('open'); // the input is not mutated
  });

  it('opens a milestone only once all its dependencies are satisfied', () => {
    let progress = complete(start(), 'kickoff');
    progress = complete(progress, 'integration', t2);
    expect(statuses(progress)['first-workflow']).toBe('locked');
    expect(statuses(progress).sso).toBe('open');
    progress = complete(progress, 'training', t3);
    expect(progress.find((p) => p.milestoneKey === 'first-workflow')).toMatchObject({
      status: 'open',
      openedAt: t3,
    });
  });

  it('refuses a locked milestone, naming the incomplete dependencies', () => {
    const progress = complete(start(), 'kickoff');
    const result = completeMilestone(sampleProgram, progress, {
      milestoneKey: 'first-workflow',
      at: t2,
      source: 'automatic',
      actor: system,
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'milestone_locked',
        milestoneKey: 'first-workflow',
        incompleteDependencies: ['integration', 'training'],
        message:
          'Milestone "first-workflow" is locked until "integration", "training" are completed or waived',
      },
    });
  });

  it('refuses a completed, a waived and an unknown milestone', () => {
    const progress = complete(start(), 'kickoff');
    const again = completeMilestone(sampleProgram, progress, {
      milestoneKey: 'kickoff',
      at: t2,
      source: 'csm',
      actor: csm,
    });
    expect(again.ok ? null : again.error.code).toBe('already_completed');

    const waived = unwrap(
      waiveMilestone(sampleProgram, progress, {
        milestoneKey: 'training',
        at: t2,
        actor: manager,
        reason: 'Trained last year',
      }),
    ).progress;
    const onWaived = completeMilestone(sampleProgram, waived, {
      milestoneKey: 'training',
      at: t3,
      source: 'csm',
      actor: csm,
    });
    expect(onWaived.ok ? null : onWaived.error.code).toBe('already_waived');

    // "sso" exists in the program but does not apply to an SMB account.
    const smb = initialProgress(sampleProgram, t0, { segment: 'smb' });
    const notTracked = completeMilestone(sampleProgram, smb, {
      milestoneKey: 'sso',
      at: t1,
      source: 'csm',
      actor: csm,
    });
    expect(notTracked.ok ? null : notTracked.error).toMatchObject({
      code: 'unknown_milestone',
      message: 'Milestone "sso" is not tracked for this enrollment',
    });
  });

  it('refuses a timestamp that is not a UTC instant', () => {
    const result = completeMilestone(sampleProgram, start(), {
      milestoneKey: 'kickoff',
      at: '2026-03-03',
      source: 'csm',
      actor: csm,
    });
    expect(result.ok ? null : result.error.code).toBe('invalid_timestamp');
  });

  it('lets go-live wait for integration when the segment skips sso', () => {
    let progress = initialProgress(sampleProgram, t0, { segment: 'smb' });
    progress = complete(progress, 'kickoff');
    progress = complete(progress, 'training');
    const locked = completeMilestone(sampleProgram, progress, {
      milestoneKey: 'go-live',
      at: t2,
      source: 'client',
      actor: csm,
    });
    expect(locked.ok ? null : locked.error).toMatchObject({
      incompleteDependencies: ['first-workflow', 'integration'],
    });
    progress = complete(progress, 'integration', t2);
    progress = complete(progress, 'first-workflow', t3);
    expect(statuses(progress)['go-live']).toBe('open');
  });
});

describe('completeMilestone and verification', () => {
  // How each completion source is verified: the spec the transition enforces.
  const METHOD: Record<CompletionSource, VerificationMethod> = {
    automatic: 'auto',
    csm: 'csm',
    client: 'client',
  };
  const sources: CompletionSource[] = ['automatic', 'csm', 'client'];
  const methods: VerificationMethod[] = ['auto', 'csm', 'client'];
  // Every non-empty verification list a milestone can declare.
  const lists = [1, 2, 3, 4, 5, 6, 7].map((bits) => methods.filter((_, i) => bits & (1 << i)));
  const oneStep = (verification: VerificationMethod[]) =>
    program([
      milestone('setup', 5, [], {
        verification,
        ...(verification.includes('auto') && { criteria: 'event_count("Setup Done") >= 1' }),
      }),
    ]);
  const actorOf: Record<CompletionSource, Actor> = {
    automatic: system,
    csm,
    client: { type: 'contact', id: 'contact_1' },
  };
  const completeSetup = (verification: VerificationMethod[], source: CompletionSource) => {
    const p = oneStep(verification);
    return completeMilestone(p, initialProgress(p, t0, {}), {
      milestoneKey: 'setup',
      at: t1,
      source,
      evidence: { note: 'done' },
      actor: actorOf[source],
    });
  };

  // The wording of each refusal: who may verify the milestone, and who may not.
  const refusals: Record<string, string> = {
    'csm -> automatic':
      'Milestone "setup" is verified by the CSM; it cannot be completed automatically',
    'client -> automatic':
      'Milestone "setup" is verified by the client; it cannot be completed automatically',
    'csm,client -> automatic':
      'Milestone "setup" is verified by the CSM or by the client; it cannot be completed automatically',
    'auto -> csm':
      'Milestone "setup" is verified automatically from product data; a CSM cannot complete it',
    'client -> csm': 'Milestone "setup" is verified by the client; a CSM cannot complete it',
    'auto,client -> csm':
      'Milestone "setup" is verified automatically from product data or by the client; a CSM cannot complete it',
    'auto -> client':
      'Milestone "setup" is verified automatically from product data; the client cannot confirm it',
    'csm -> client': 'Milestone "setup" is verified by the CSM; the client cannot confirm it',
    'auto,csm -> client':
      'Milestone "setup" is verified automatically from product data or by the CSM; the client cannot confirm it',
  };

  const cases = lists.flatMap((verification) =>
    sources.map((source) => ({ verification, source, name: `${verification} -> ${source}` })),
  );

  it.each(cases)('$name', ({ verification, source, name }) => {
    const result = completeSetup(verification, source);
    if (verification.includes(METHOD[source])) {
      expect(result.ok, name).toBe(true);
      expect(unwrap(result).progress[0]).toMatchObject({
        status: 'completed',
        completionSource: source,
        verifiedBy: actorOf[source],
      });
      return;
    }
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'verification_not_allowed',
        milestoneKey: 'setup',
        source,
        allowed: verification,
        message: refusals[name],
      },
    });
  });

  it('words every refusal, one per source and verification list that lacks its method', () => {
    const refused = cases.filter((c) => !c.verification.includes(METHOD[c.source]));
    expect(refused.map((c) => c.name).sort()).toEqual(Object.keys(refusals).sort());
  });

  it('lists the allowed methods as auto, csm, client whatever order the program gives', () => {
    const p = oneStep(['client', 'auto']);
    const result = completeMilestone(p, initialProgress(p, t0, {}), {
      milestoneKey: 'setup',
      at: t1,
      source: 'csm',
      actor: csm,
    });
    expect(result.ok ? null : result.error).toMatchObject({
      allowed: ['auto', 'client'],
      message:
        'Milestone "setup" is verified automatically from product data or by the client; a CSM cannot complete it',
    });
  });

  it('refuses a disallowed source before looking at the dependencies, after a done milestone', () => {
    // go-live is verified by the client alone; it is locked at the start.
    const locked = completeMilestone(sampleProgram, start(), {
      milestoneKey: 'go-live',
      at: t1,
      source: 'csm',
      actor: csm,
    });
    expect(locked.ok ? null : locked.error).toMatchObject({
      code: 'verification_not_allowed',
      milestoneKey: 'go-live',
      allowed: ['client'],
    });
    // kickoff (csm or client) done: completing it again is refused as done, whatever the source.
    const done = completeMilestone(sampleProgram, complete(start(), 'kickoff'), {
      milestoneKey: 'kickoff',
      at: t2,
      source: 'automatic',
      actor: system,
    });
    expect(done.ok ? null : done.error.code).toBe('already_completed');
  });

  it('lets a manager waive a milestone whatever its verification', () => {
    for (const verification of lists) {
      const p = oneStep(verification);
      const waived = waiveMilestone(p, initialProgress(p, t0, {}), {
        milestoneKey: 'setup',
        at: t1,
        actor: manager,
        reason: 'Not needed for this account',
      });
      expect(waived.ok, String(verification)).toBe(true);
    }
    // integration is verified by the product data or the client, never by a person at Waymark.
    const progress = complete(start(), 'kickoff');
    const waived = waiveMilestone(sampleProgram, progress, {
      milestoneKey: 'integration',
      at: t2,
      actor: manager,
      reason: 'Customer imports CSV files instead',
    });
    expect(statuses(unwrap(waived).progress).integration).toBe('waived');
  });
});

describe('waiveMilestone', () => {
  it('waives a locked milestone with a reason and unlocks what only waited for it', () => {
    const progress = complete(start(), 'kickoff');
    const { progress: after, changes } = unwrap(
      waiveMilestone(sampleProgram, progress, {
        milestoneKey: 'integration',
        at: t2,
        actor: manager,
        reason: '  Customer uses CSV import instead  ',
      }),
    );
    expect(after.find((p) => p.milestoneKey === 'integration')).toMatchObject({
      status: 'waived',
      waivedAt: t2,
      waivedBy: manager,
      waiverReason: 'Customer uses CSV import instead',
      completedAt: null,
    });
    expect(changes.map((c) => [c.type, c.milestoneKey, c.reason])).toEqual([
      ['milestone.waived', 'integration', 'Customer uses CSV import instead'],
      ['milestone.opened', 'sso', undefined],
    ]);
  });

  it('waives a locked milestone whose dependencies are not done', () => {
    const result = waiveMilestone(sampleProgram, start(), {
      milestoneKey: 'sso',
      at: t1,
      actor: manager,
      reason: 'No identity provider',
    });
    expect(statuses(unwrap(result).progress).sso).toBe('waived');
    expect(unwrap(result).changes).toHaveLength(1);
  });

  it('requires a reason and refuses done milestones', () => {
    const noReason = waiveMilestone(sampleProgram, start(), {
      milestoneKey: 'kickoff',
      at: t1,
      actor: manager,
      reason: ' ',
    });
    expect(noReason.ok ? null : noReason.error.code).toBe('reason_required');
    const done = complete(start(), 'kickoff');
    const onDone = waiveMilestone(sampleProgram, done, {
      milestoneKey: 'kickoff',
      at: t2,
      actor: manager,
      reason: 'x',
    });
    expect(onDone.ok ? null : onDone.error.code).toBe('already_completed');
  });
});
