import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEngines } from '../testing/describe-engines.js';
import { makeWorkspace } from '../testing/factories.js';
import { type AuditEventInput, appendAuditEvents, listAuditEvents } from './audit.repo.js';

describeEngines('audit trail', (use) => {
  const event = (
    workspaceId: string,
    i: number,
    overrides: Partial<AuditEventInput> = {},
  ): AuditEventInput => ({
    workspaceId,
    occurredAt: `2026-03-0${i}T12:00:00.000Z`,
    actor: { type: 'user', id: `user-${i % 2}` },
    action: 'milestone.completed',
    entity: { type: 'milestone_progress', id: `enrollment-1/m${i}` },
    before: { status: 'open' },
    after: { status: 'completed' },
    context: { evidence: { note: `call ${i}` } },
    ...overrides,
  });

  it('appends events and reads them newest first, filtered by entity, actor and time', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    await appendAuditEvents(
      db,
      [1, 2, 3, 4, 5].map((i) => event(ws.id, i)),
    );
    await appendAuditEvents(db, [event(ws.id, 6, { actor: { type: 'system', id: null } })]);

    const all = await listAuditEvents(db, ws.id);
    expect(all.map((e) => e.occurredAt)).toEqual(
      [6, 5, 4, 3, 2, 1].map((i) => `2026-03-0${i}T12:00:00.000Z`),
    );
    expect(all[5]).toMatchObject({
      before: { status: 'open' },
      after: { status: 'completed' },
      context: { evidence: { note: 'call 1' } },
    });

    const byEntity = await listAuditEvents(db, ws.id, {
      entity: { type: 'milestone_progress', id: 'enrollment-1/m3' },
    });
    expect(byEntity.map((e) => e.entity.id)).toEqual(['enrollment-1/m3']);

    const byActor = await listAuditEvents(db, ws.id, { actor: { type: 'user', id: 'user-1' } });
    expect(byActor.map((e) => e.occurredAt.slice(0, 10))).toEqual([
      '2026-03-05',
      '2026-03-03',
      '2026-03-01',
    ]);

    const bySystem = await listAuditEvents(db, ws.id, { actor: { type: 'system' } });
    expect(bySystem).toHaveLength(1);

    const window = await listAuditEvents(db, ws.id, {
      from: '2026-03-02T00:00:00.000Z',
      to: '2026-03-04T12:00:00.000Z',
    });
    expect(window.map((e) => e.occurredAt.slice(0, 10))).toEqual(['2026-03-03', '2026-03-02']);

    const firstPage = await listAuditEvents(db, ws.id, { limit: 4 });
    const secondPage = await listAuditEvents(db, ws.id, { limit: 4, before: firstPage[3]?.id });
    expect([...firstPage, ...secondPage].map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it('is append-only: the database refuses to change or delete an event', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    await appendAuditEvents(db, [event(ws.id, 1)]);
    await expect(
      sql`update audit_events set action = 'forged' where workspace_id = ${ws.id}`.execute(db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`delete from audit_events where workspace_id = ${ws.id}`.execute(db),
    ).rejects.toThrow(/append-only/);
    expect((await listAuditEvents(db, ws.id))[0]?.action).toBe('milestone.completed');
  });

  it('keeps each workspace’s trail to itself', async () => {
    const { db } = use();
    const a = await makeWorkspace(db);
    const b = await makeWorkspace(db);
    await appendAuditEvents(db, [event(a.id, 1)]);
    expect(await listAuditEvents(db, b.id)).toEqual([]);
  });
});
