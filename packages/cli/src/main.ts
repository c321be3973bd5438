#!/usr/bin/env node
import { ConfigError, MigrationError, WAYMARK_VERSION } from '@waymark/server';
import { Command, CommanderError } from 'commander';
import { adminCommand } from './commands/admin.js';
import { applyCommand } from './commands/apply.js';
import { backfillCommand } from './commands/backfill.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { templatesCommand } from './commands/templates.js';
import { versionCommand } from './commands/version.js';
import { environmentHelp } from './environment-help.js';

const program = new Command()
  .name('waymark')
  .description(
    'Waymark: customer onboarding milestones, tracked from product usage and verified by your customers.',
  )
  .version(WAYMARK_VERSION, '-v, --version', 'print the version')
  // Options after a command are that command's own (`waymark export key --version 2`).
  .enablePositionalOptions()
  .addHelpText('after', environmentHelp())
  .showHelpAfterError('(run waymark --help for the commands)')
  .exitOverride();

program.addCommand(serveCommand());
program.addCommand(migrateCommand());
program.addCommand(adminCommand());
program.addCommand(importCommand());
program.addCommand(applyCommand());
program.addCommand(exportCommand());
program.addCommand(backfillCommand());
program.addCommand(templatesCommand());
program.addCommand(versionCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  // Errors an operator can act on are said plainly, without a stack trace.
  if (error instanceof ConfigError || error instanceof MigrationError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
