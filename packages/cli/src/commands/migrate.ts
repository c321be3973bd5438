import { loadConfig, migrateToLatest, migrationStatus, openDatabase } from '@waymark/server';
import { Command } from 'commander';
import { say } from './say.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('apply pending database migrations (serve also does this on start)')
    .option('--status', 'list applied and pending migrations without applying any')
    .action(async (options: { status?: boolean }) => {
      const database = openDatabase(loadConfig());
      try {
        say(true, `${database.dialect.engine} database at ${database.location}`);
        if (options.status) {
          const { applied, pending } = await migrationStatus(database);
          for (const name of applied) say(true, `${name} applied`);
          for (const name of pending) say(false, `${name} pending`);
          return;
        }
        const applied = await migrateToLatest(database);
        say(true, applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      } finally {
        await database.close();
      }
    });
}
