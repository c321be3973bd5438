import { afterAll, beforeAll, describe } from 'vitest';
import type { Engine } from '../db/dialect.js';
import { createTestDatabase, type TestDatabase, testEngines } from './engines.js';

/**
 * Runs the same suite once per engine, each with its own freshly migrated database.
 * `use()` returns that database inside tests.
 */
export function describeEngines(
  name: string,
  suite: (use: () => TestDatabase, engine: Engine) => void,
) {
  for (const engine of testEngines()) {
    describe(`${name} [${engine}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(engine);
      });
      afterAll(async () => {
        await database?.drop();
      });
      suite(() => {
        if (!database) throw new Error('test database not ready');
        return database;
      }, engine);
    });
  }
}
