import type { VerificationMethod } from '../program/program.js';
import type { Result } from '../result.js';
import type { Instant } from '../schedule/local-date.js';
import type { Actor, CompletionSource, MilestoneProgress, MilestoneStatus } from './progress.js';

// The vocabulary of the progress transitions: what they take, what they emit, how they fail.
// The change events are what the audit log and webhooks record and subscribers consume.

export type ProgressChangeType =
  | 'milestone.opened'
  | 'milestone.completed'
  | 'milestone.waived'
  | 'milestone.reopened'
  | 'milestone.locked';

/** One audit event per milestone whose row changed; `before` keeps what a reopen clears. */
export interface ProgressChange {
  type: ProgressChangeType;
  milestoneKey: string;
  at: Instant;
  actor: Actor;
  reason?: string;
  before: MilestoneProgress;
  after: MilestoneProgress;
}

export type ProgressError = { milestoneKey: string; message: string } & (
  | { code: 'unknown_milestone' }
  | { code: 'invalid_timestamp'; value: string }
  | { code: 'milestone_locked'; incompleteDependencies: string[] }
  | { code: 'already_completed' }
  | { code: 'already_waived' }
  | { code: 'not_done'; status: MilestoneStatus }
  | { code: 'reason_required' }
  | { code: 'dependents_completed'; dependents: string[] }
  | {
      /** The completion's source is not one of the milestone's verification methods. */
      code: 'verification_not_allowed';
      source: CompletionSource;
      /** The milestone's verification methods, in the order auto, csm, client. */
      allowed: VerificationMethod[];
    }
);

export interface ProgressUpdate {
  progress: MilestoneProgress[];
  changes: ProgressChange[];
}

export type TransitionResult = Result<ProgressUpdate, ProgressError>;

export interface CompleteMilestoneInput {
  milestoneKey: string;
  at: Instant;
  /**
   * How the completion was verified; the milestone's `verification` must list the matching
   * method: `automatic` needs `auto`, `csm` needs `csm`, `client` needs `client`.
   */
  source: CompletionSource;
  evidence?: Record<string, unknown> | null;
  actor: Actor;
}

export interface WaiveMilestoneInput {
  milestoneKey: string;
  at: Instant;
  actor: Actor;
  reason: string;
}

export interface ReopenMilestoneInput {
  milestoneKey: string;
  at: Instant;
  actor: Actor;
  reason: string;
  /** Also reopen the completed or waived milestones that depend on this one, transitively. */
  cascade?: boolean;
}
