import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEngines } from '../testing/describe-engines.js';
import { makeWorkspace } from '../testing/factories.js';
import { newEvent, storedEvents } from '../testing/stored-events.js';
import { insertEvents } from './events-insert.repo.js';

describeEngines('storing events', (use, engine) => {
  it('stores each message id once: a copy in the same insert or a later one is skipped', async () => {
    const { db, dialect } = use();
    const workspaceId = (await makeWorkspace(db)).id;
    const first = await insertEvents(db, dialect, [
      newEvent(workspaceId, 'a'),
      newEvent(workspaceId, 'b'),
      newEvent(workspaceId, 'a'),
    ]);
    expect(first.seqs.map((seq) => seq !== null)).toEqual([true, true, false]);
    const second = await insertEvents(db, dialect, [
      newEvent(workspaceId, 'b'),
      newEvent(workspaceId, 'c'),
    ]);
    expect(second.seqs.map((seq) => seq !== null)).toEqual([false, true]);
    const again = await insertEvents(db, dialect, [newEvent(workspaceId, 'c')]);
    expect(again.seqs).toEqual([null]);

    const stored = await storedEvents(db, workspaceId);
    expect(stored.map((e) => e.message_id)).toEqual(['a', 'b', 'c']);
    expect(stored.map((e) => e.seq)).toEqual(
      [...first.seqs, ...second.seqs].filter((seq) => seq !== null),
    );
    // Another workspace's same ids are its own.
    const otherId = (await makeWorkspace(db)).id;
    const other = await insertEvents(db, dialect, [newEvent(otherId, 'a'), newEvent(otherId, 'c')]);
    expect(other.seqs.every((seq) => seq !== null)).toBe(true);
  });

  if (engine === 'postgres') {
    it("compresses a batch's texts with lz4 as PostgreSQL stores them out of line", async () => {
      const { db, dialect } = use();
      const workspaceId = (await makeWorkspace(db)).id;
      const payload = JSON.stringify({ type: 'track', properties: { note: 'x'.repeat(8_000) } });
      const { seqs } = await insertEvents(db, dialect, [
        newEvent(workspaceId, 'long', { payload }),
      ]);
      const { rows } = await sql<{ method: string | null }>`
        select pg_column_compression(payloads) as method from event_batches
        where workspace_id = ${workspaceId}`.execute(db);
      expect(rows).toEqual([{ method: 'lz4' }]);
      const [stored] = await storedEvents(db, workspaceId);
      expect(stored?.seq).toBe(seqs[0]);
      expect(stored?.payload).toBe(payload);
    });
  }
});
