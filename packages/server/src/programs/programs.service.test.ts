import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { HttpProblem } from '../http/problem.js';
import { describeEngines } from '../testing/describe-engines.js';
import { makeWorkspace, T0, threeStepProgram } from '../testing/factories.js';
import { type Change, saveProgram } from './programs.service.js';

describeEngines('saving programs', (use, engine) => {
  it('answers 409 when another transaction creates the same key between the look and the insert', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const change: Change = { workspaceId: ws.id, actor: { type: 'system', id: null }, at: T0 };
    const key = 'raced-in-service';

    // The first transaction creates the program and stays open until told to commit.
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    let commit!: () => void;
    const mayCommit = new Promise<void>((resolve) => {
      commit = resolve;
    });
    const first = db.transaction().execute(async (trx) => {
      const saved = await saveProgram(trx, change, { ...threeStepProgram, key }, 'create');
      inserted();
      await mayCommit;
      return saved;
    });
    await firstInserted;

    // The second one, with another definition, does not see the uncommitted program (PostgreSQL)
    // and so inserts too, which waits on the first's unique index entry; on SQLite it waits for
    // the first to finish, then sees the program.
    let secondPid: number | undefined;
    const second = db.transaction().execute(async (trx) => {
      if (engine === 'postgres') {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        secondPid = rows[0]?.pid;
      }
      return saveProgram(trx, change, { ...threeStepProgram, key, name: 'Another' }, 'create');
    });
    const secondFailure = second.then(
      () => undefined,
      (error: unknown) => error,
    );

    if (engine === 'postgres') {
      // Commit only once the second insert is waiting on the first's row, so the race is real.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_stat_activity
          where pid = ${secondPid ?? -1} and wait_event_type = 'Lock'`.execute(db);
        if (rows[0]?.waiting === 1) break;
        if (Date.now() > deadline) throw new Error('the second insert never waited on the first');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    commit();

    expect((await first).outcome).toBe('created');
    const error = await secondFailure;
    expect(error).toBeInstanceOf(HttpProblem);
    expect(error).toMatchObject({ status: 409, title: 'Program exists' });

    const programs = await db
      .selectFrom('programs')
      .select('name')
      .where('workspace_id', '=', ws.id)
      .execute();
    expect(programs).toEqual([{ name: threeStepProgram.name }]);
    const created = await db
      .selectFrom('audit_events')
      .select('action')
      .where('workspace_id', '=', ws.id)
      .where('action', '=', 'program.created')
      .execute();
    expect(created).toHaveLength(1);
  });
});
