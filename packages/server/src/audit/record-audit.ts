import type { Actor } from '@waymark/core';
import type { Db } from '../db/database.js';
import { appendAuditEvents } from './audit.repo.js';

/** One change, appended to the trail inside the caller's transaction. */
export function recordAudit(
  db: Db,
  workspaceId: string,
  at: string,
  actor: Actor,
  action: string,
  entity: { type: string; id: string },
  change: { before?: unknown; after?: unknown; context?: Record<string, unknown> } = {},
): Promise<void> {
  return appendAuditEvents(db, [{ workspaceId, occurredAt: at, actor, action, entity, ...change }]);
}
