import { emptyMetricState, storedMetricState } from '@waymark/core';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { accountRow } from '../accounts/accounts.repo.js';
import { newId } from '../db/ids.js';
import { enrollmentRow } from '../enrollments/enrollments.repo.js';
import { testEngines } from '../testing/engines.js';
import { accountOf, enrollmentOf, T0 } from '../testing/factories.js';
import { serverWithoutTracking } from '../testing/tracking.js';
import { REBUILD_REQUESTED } from './tracking.repo.js';

const ENROLLMENTS = 5000;

/**
 * The tracking asks after every chunk whether a rebuild waits. The answer must come from the
 * small index of requests, whatever the planner's statistics say: taken while every enrollment
 * waited for one (a program's criteria changed, say), they once made PostgreSQL scan the whole
 * table of metrics after every chunk, for none.
 */
describe.each(testEngines())('the question whether a rebuild waits [%s]', (engine) => {
  const use = serverWithoutTracking(engine);

  it('is answered from the index of requests once none waits, after statistics saw them all', async () => {
    const { server, space } = use();
    const { db } = server.database;
    const workspaceId = space.workspace.id;
    const version = await db
      .selectFrom('program_versions')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('status', '=', 'published')
      .executeTakeFirstOrThrow();
    const ids = Array.from({ length: ENROLLMENTS }, () => newId());
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      await db
        .insertInto('accounts')
        .values(
          slice.map((id) =>
            accountRow(accountOf(workspaceId, { id, externalId: `rebuilt-${id}`, segment: null })),
          ),
        )
        .execute();
      await db
        .insertInto('enrollments')
        .values(
          slice.map((id) =>
            enrollmentRow(
              enrollmentOf({ workspaceId, accountId: id, programVersionId: version.id }, { id }),
            ),
          ),
        )
        .execute();
      await db
        .insertInto('enrollment_metrics')
        .values(
          slice.map((id) => ({
            enrollment_id: id,
            workspace_id: workspaceId,
            state: JSON.stringify(storedMetricState(emptyMetricState())),
            rebuild_requested_at: T0,
            updated_at: T0,
          })),
        )
        .execute();
    }
    await sql`analyze`.execute(db);
    await db.updateTable('enrollment_metrics').set({ rebuild_requested_at: null }).execute();

    if (engine === 'postgres') {
      const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${sql.raw(
        REBUILD_REQUESTED.sql,
      )}`.execute(db);
      const explained = rows[0]?.['QUERY PLAN'];
      const plan = typeof explained === 'string' ? explained : JSON.stringify(explained);
      expect(plan).toMatch(/"Index Name":\s*"enrollment_metrics_rebuild_requested"/);
      expect(plan).not.toContain('Seq Scan');
    } else {
      const { rows } = await sql<{ detail: string }>`explain query plan ${sql.raw(
        REBUILD_REQUESTED.sql,
      )}`.execute(db);
      expect(rows.map((row) => row.detail)).toEqual([
        expect.stringMatching(/USING (COVERING )?INDEX enrollment_metrics_rebuild_requested/),
      ]);
    }
    const { rows } = await db.executeQuery(REBUILD_REQUESTED);
    expect(rows).toEqual([]);
  });
});
