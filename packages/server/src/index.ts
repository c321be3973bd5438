export { type Config, ConfigError, describeConfig, loadConfig } from './config/config.js';
export { type Database, openDatabase } from './db/database.js';
export { MigrationError, migrateToLatest, migrationStatus } from './db/migrate.js';
export { buildServer } from './http/app.js';
export { type RunningServer, startServer, stopOnSignals } from './serve.js';
export { WAYMARK_VERSION } from './version.js';
