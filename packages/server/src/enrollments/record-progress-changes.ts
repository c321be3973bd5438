import type { ProgressChange } from '@waymark/core';
import { appendAuditEvents } from '../audit/audit.repo.js';
import type { Db } from '../db/database.js';
import { saveProgress } from './progress.repo.js';

/**
 * Writes the milestones a transition changed and one audit event per change, in the caller's
 * transaction: the only way progress changes are stored, whoever made them.
 */
export async function recordProgressChanges(
  trx: Db,
  workspaceId: string,
  enrollmentId: string,
  changes: readonly ProgressChange[],
  now: string,
): Promise<void> {
  if (changes.length === 0) return;
  await saveProgress(
    trx,
    workspaceId,
    enrollmentId,
    changes.map((change) => change.after),
    now,
  );
  await appendAuditEvents(
    trx,
    changes.map((change) => ({
      workspaceId,
      occurredAt: change.at,
      actor: change.actor,
      action: change.type,
      entity: { type: 'milestone_progress', id: `${enrollmentId}/${change.milestoneKey}` },
      before: change.before,
      after: change.after,
      context: {
        enrollmentId,
        ...(change.reason !== undefined && { reason: change.reason }),
        ...(change.after.evidence !== null &&
          change.type === 'milestone.completed' && { evidence: change.after.evidence }),
      },
    })),
  );
}
