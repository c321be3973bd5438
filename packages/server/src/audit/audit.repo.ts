import type { Selectable } from 'kysely';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { AuditEventsTable } from '../db/schema.js';

export type ActorType = 'user' | 'contact' | 'api_key' | 'system';

export interface AuditEventInput {
  workspaceId: string;
  occurredAt: string;
  actor: { type: ActorType; id: string | null };
  /** What happened, as `entity.verb`: `milestone.completed`, `account.created`. */
  action: string;
  entity: { type: string; id: string };
  before?: unknown;
  after?: unknown;
  /** Evidence, reason, request id: whatever explains the change. */
  context?: Record<string, unknown>;
}

export interface AuditEvent extends Required<Omit<AuditEventInput, 'context'>> {
  id: number;
  context: Record<string, unknown> | null;
}

const jsonOrNull = (value: unknown) => (value === undefined ? null : toDbJson(value));

function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: Number(row.id),
    workspaceId: row.workspace_id,
    occurredAt: row.occurred_at,
    actor: { type: row.actor_type as ActorType, id: row.actor_id },
    action: row.action,
    entity: { type: row.entity_type, id: row.entity_id },
    before: fromDbJson(row.before),
    after: fromDbJson(row.after),
    context: fromDbJson(row.context),
  };
}

/** Append-only: the table itself refuses UPDATE and DELETE (see the migration). */
export async function appendAuditEvents(db: Db, events: AuditEventInput[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('audit_events')
    .values(
      events.map((e) => ({
        workspace_id: e.workspaceId,
        occurred_at: e.occurredAt,
        actor_type: e.actor.type,
        actor_id: e.actor.id,
        action: e.action,
        entity_type: e.entity.type,
        entity_id: e.entity.id,
        before: jsonOrNull(e.before),
        after: jsonOrNull(e.after),
        context: jsonOrNull(e.context),
      })),
    )
    .execute();
}

export interface AuditQuery {
  entity?: { type: string; id?: string };
  actor?: { type: ActorType; id?: string };
  /** Inclusive lower and exclusive upper bound on `occurredAt`. */
  from?: string;
  to?: string;
  /** Continue after this event id (newest first). */
  before?: number;
  limit?: number;
}

/** Newest first, always within one workspace. */
export async function listAuditEvents(
  db: Db,
  workspaceId: string,
  q: AuditQuery = {},
): Promise<AuditEvent[]> {
  let query = db.selectFrom('audit_events').selectAll().where('workspace_id', '=', workspaceId);
  if (q.entity) {
    query = query.where('entity_type', '=', q.entity.type);
    if (q.entity.id !== undefined) query = query.where('entity_id', '=', q.entity.id);
  }
  if (q.actor) {
    query = query.where('actor_type', '=', q.actor.type);
    if (q.actor.id !== undefined) query = query.where('actor_id', '=', q.actor.id);
  }
  if (q.from !== undefined) query = query.where('occurred_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('occurred_at', '<', q.to);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(q.limit ?? 100)
    .execute();
  return rows.map(toAuditEvent);
}
