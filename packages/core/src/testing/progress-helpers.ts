import {
  type Actor,
  type CompletionSource,
  initialProgress,
  type MilestoneProgress,
} from '../progress/progress.js';
import type { ProgressUpdate } from '../progress/progress-change.js';
import { completeMilestone } from '../progress/transitions.js';
import type { Result } from '../result.js';
import { csm, sampleProgram, system } from './fixtures.js';

// Shared by the transition tests: instants a day apart and the sample program, enterprise segment.
export const t0 = '2026-03-02T09:00:00.000Z';
export const t1 = '2026-03-03T10:00:00.000Z';
export const t2 = '2026-03-04T11:00:00.000Z';
export const t3 = '2026-03-05T12:00:00.000Z';
export const manager = { type: 'user' as const, id: 'user_manager' };
export const start = () => initialProgress(sampleProgram, t0, { segment: 'enterprise' });

export function unwrap<E>(result: Result<ProgressUpdate, E>): ProgressUpdate {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
}

export const statuses = (progress: MilestoneProgress[]) =>
  Object.fromEntries(progress.map((p) => [p.milestoneKey, p.status]));

export const client: Actor = { type: 'contact', id: 'contact_1' };

/**
 * The completion source a milestone of the sample program accepts: the CSM's when its
 * verification lists csm, else the client's, else the product data's. Completions have to
 * match the milestone's verification, so the helper never completes one by a method it refuses.
 */
export function allowedSource(milestoneKey: string): CompletionSource {
  const verification =
    sampleProgram.milestones.find((m) => m.key === milestoneKey)?.verification ?? [];
  if (verification.includes('csm')) return 'csm';
  if (verification.includes('client')) return 'client';
  return 'automatic';
}

const actorFor: Record<CompletionSource, Actor> = { csm, client, automatic: system };

export const complete = (progress: MilestoneProgress[], milestoneKey: string, at = t1) => {
  const source = allowedSource(milestoneKey);
  return unwrap(
    completeMilestone(sampleProgram, progress, {
      milestoneKey,
      at,
      source,
      evidence: { note: `${milestoneKey} done` },
      actor: actorFor[source],
    }),
  ).progress;
};
