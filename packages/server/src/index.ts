export {
  type ImportOptions,
  type ImportReport,
  importAccounts,
} from './accounts/accounts-import.js';
export { emailSchema, newPasswordSchema, timeZoneSchema } from './auth/auth.schemas.js';
export { createAuthService } from './auth/auth.service.js';
export { systemClock } from './auth/clock.js';
export {
  type Config,
  ConfigError,
  DEFAULT_EVENT_RETENTION_DAYS,
  describeConfig,
  loadConfig,
} from './config/config.js';
export { type Database, openDatabase } from './db/database.js';
export { MigrationError, migrateToLatest, migrationStatus } from './db/migrate.js';
export { buildServer } from './http/app.js';
export { HttpProblem } from './http/problem.js';
export { definitionHash } from './programs/definition-hash.js';
export {
  findProgramByKey,
  findVersionByNumber,
  listProgramVersions,
} from './programs/programs.repo.js';
export {
  type Change,
  type ProgramFieldError,
  publishVersion,
  readProgramSource,
  type SaveOutcome,
  saveProgram,
} from './programs/programs.service.js';
export { chooseWorkspace, WorkspaceChoiceError } from './programs/workspace-choice.js';
export { type RunningServer, startServer } from './serve.js';
export { deleteExpiredEvents } from './tracking/retention.js';
export { createTracker, type Tracker } from './tracking/tracker.js';
export {
  countCompletedMilestones,
  countPendingRebuilds,
  requestBackfill,
} from './tracking/tracking.repo.js';
export { WAYMARK_VERSION } from './version.js';
export { countWorkspaces, findWorkspaceBySlug } from './workspaces/workspaces.repo.js';
