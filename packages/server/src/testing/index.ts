export { progressRow } from '../enrollments/progress.repo.js';
export { insertEvents } from '../tracking/events-insert.repo.js';
export { describeEngines } from './describe-engines.js';
export {
  assertTestDatabase,
  createTestDatabase,
  type TestDatabase,
  testEngines,
} from './engines.js';
export { makeWorkspace } from './factories.js';
export { storedEvents } from './stored-events.js';
export { trackedProgram } from './tracking.js';
