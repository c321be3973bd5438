import { expect, it } from 'vitest';
import { insertProgram } from '../programs/programs.repo.js';
import { describeEngines } from '../testing/describe-engines.js';
import { makeWorkspace, T0 } from '../testing/factories.js';
import { isUniqueViolation } from './errors.js';
import { newId } from './ids.js';

describeEngines('isUniqueViolation', (use) => {
  const program = (workspaceId: string, key: string) => ({
    id: newId(),
    workspaceId,
    key,
    name: key,
    createdAt: T0,
    updatedAt: T0,
  });
  const failureOf = (work: Promise<unknown>) =>
    work.then(
      () => expect.unreachable('the insert should fail'),
      (error: unknown) => error,
    );

  it('recognizes a unique constraint violation of this engine', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    await insertProgram(db, program(ws.id, 'twice'));
    const error = await failureOf(insertProgram(db, program(ws.id, 'twice')));
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('recognizes a primary key taken twice', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const first = program(ws.id, 'first');
    await insertProgram(db, first);
    const error = await failureOf(insertProgram(db, { ...program(ws.id, 'other'), id: first.id }));
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('leaves other failures alone', async () => {
    const { db } = use();
    const foreignKey = await failureOf(insertProgram(db, program(newId(), 'orphan')));
    expect(isUniqueViolation(foreignKey)).toBe(false);
    for (const other of [undefined, null, 'SQLITE_CONSTRAINT_UNIQUE', new Error('23505'), {}])
      expect(isUniqueViolation(other)).toBe(false);
  });
});
