import { readFile } from 'node:fs/promises';
import {
  checkProgramYaml,
  formatIssue,
  type LocatedIssue,
  type ProgramDefinition,
} from '@waymark/core';
import {
  type Change,
  chooseWorkspace,
  type Database,
  HttpProblem,
  loadConfig,
  migrateToLatest,
  openDatabase,
  publishVersion,
  saveProgram,
  WorkspaceChoiceError,
} from '@waymark/server';
import { Command } from 'commander';
import { say } from './say.js';

/** A change made from the command line: Waymark itself acts, and the trail says it was the CLI. */
export const cliChange = (workspaceId: string): Change => ({
  workspaceId,
  actor: { type: 'system', id: null },
  at: new Date().toISOString(),
  context: { via: 'cli' },
});

/** Opens the database, brings it up to date and picks the workspace; errors end the command with 1. */
export async function withWorkspace(
  slug: string | undefined,
  work: (database: Database, workspaceId: string) => Promise<void>,
): Promise<void> {
  const database = openDatabase(loadConfig());
  try {
    await migrateToLatest(database);
    const workspace = await chooseWorkspace(database.db, slug);
    await work(database, workspace.id);
  } catch (error) {
    if (error instanceof WorkspaceChoiceError || error instanceof HttpProblem) {
      say(false, error instanceof HttpProblem ? (error.detail ?? error.title) : error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await database.close();
  }
}

/**
 * Saves the programs of the given YAML files. Every file is read and checked first: one fault
 * anywhere prints every issue as `file:line:column: message` and saves nothing. Then all are
 * saved in one transaction, each idempotently (unchanged, draft saved, published).
 */
export async function applyFiles(
  files: string[],
  options: { publish?: boolean; workspace?: string },
): Promise<void> {
  const programs: { file: string; program: ProgramDefinition }[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      errors.push(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
      continue;
    }
    const checked = checkProgramYaml(text, file);
    for (const warning of checked.warnings)
      process.stderr.write(`${formatIssue(warning, { severity: 'warning' })}\n`);
    errors.push(...checked.errors.map((issue: LocatedIssue) => formatIssue(issue)));
    if (!checked.program) continue;
    const other = seen.get(checked.program.key);
    if (other !== undefined) {
      errors.push(`${file}: program ${checked.program.key} is also defined in ${other}`);
      continue;
    }
    seen.set(checked.program.key, file);
    programs.push({ file, program: checked.program });
  }
  if (errors.length > 0) {
    for (const line of errors) process.stderr.write(`${line}\n`);
    say(false, `nothing saved: ${errors.length} ${errors.length === 1 ? 'error' : 'errors'}`);
    process.exitCode = 1;
    return;
  }

  await withWorkspace(options.workspace, async ({ db }, workspaceId) => {
    const lines = await db.transaction().execute(async (trx) => {
      const said: string[] = [];
      for (const { program } of programs) {
        const change = cliChange(workspaceId);
        const saved = await saveProgram(trx, change, program, 'apply');
        const number = saved.version.version;
        if (options.publish && saved.version.status === 'draft') {
          await publishVersion(trx, change, program.key, number);
          said.push(`${program.key}: v${number} published`);
        } else if (saved.outcome === 'unchanged') {
          said.push(`${program.key}: unchanged`);
        } else {
          said.push(`${program.key}: draft v${number} saved`);
        }
      }
      return said;
    });
    for (const line of lines) say(true, line);
  });
}

export function applyCommand(): Command {
  return new Command('apply')
    .description('save programs from YAML files (unchanged files change nothing)')
    .argument('<files...>', 'program YAML files')
    .option('--publish', 'publish what is saved, so new enrollments use it')
    .option('--workspace <slug>', 'the workspace (needed when there is more than one)')
    .action((files: string[], options: { publish?: boolean; workspace?: string }) =>
      applyFiles(files, options),
    );
}
