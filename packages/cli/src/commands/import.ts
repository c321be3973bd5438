import { readFile } from 'node:fs/promises';
import { chooseWorkspace, importAccounts, loadConfig, openDatabase } from '@waymark/server';
import { Command } from 'commander';
import { say } from './say.js';

/**
 * Progress on standard error: a redrawn bar on a terminal, a plain line per tenth otherwise
 * (logs and CI keep every line).
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): {
  update: (done: number, total: number) => void;
  end: () => void;
} {
  let lastTenth = -1;
  let drawn = false;
  return {
    update(done, total) {
      const ratio = total === 0 ? 1 : done / total;
      const percent = Math.floor(ratio * 100);
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(ratio * width);
        stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}%`);
        drawn = true;
        return;
      }
      const tenth = Math.floor(percent / 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`importing… ${tenth * 10}%\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

export function importCommand(): Command {
  const command = new Command('import').description('import data from files');
  command
    .command('accounts')
    .description(
      'import accounts from a CSV file, all or nothing; an existing external_id is updated (columns: external_id, name, segment, owner_email, time_zone, trait.<name>, contact_email, contact_name)',
    )
    .argument('<file>', 'the CSV file, with a header row')
    .option('--dry-run', 'check the file and count creates and updates; write nothing')
    .option('--workspace <slug>', 'the workspace to import into (needed when there are several)')
    .action(async (file: string, options: { dryRun?: boolean; workspace?: string }) => {
      let csv: string;
      try {
        csv = await readFile(file, 'utf8');
      } catch (error) {
        say(false, `cannot read ${file}: ${(error as Error).message}`);
        process.exitCode = 1;
        return;
      }
      const database = openDatabase(loadConfig());
      const progress = progressReporter();
      try {
        let workspace: { id: string; slug: string };
        try {
          workspace = await chooseWorkspace(database.db, options.workspace);
        } catch (error) {
          say(false, (error as Error).message);
          process.exitCode = 1;
          return;
        }
        const dryRun = options.dryRun === true;
        const report = await importAccounts(database.db, csv, {
          workspaceId: workspace.id,
          actor: { type: 'system', id: 'cli' },
          at: new Date().toISOString(),
          dryRun,
          onProgress: progress.update,
        });
        progress.end();
        if (!report.valid) {
          for (const e of report.errors) {
            process.stderr.write(
              `  row ${e.row}${e.column ? `, ${e.column}` : ''}: ${e.message}\n`,
            );
          }
          say(
            false,
            `${file}: ${report.errors.length} error(s) in ${report.rows} row(s); nothing was imported`,
          );
          process.exitCode = 1;
          return;
        }
        const verb = dryRun ? 'would import' : 'imported';
        say(
          true,
          `${verb} ${report.rows} row(s) into ${workspace.slug}: ${report.creates} created, ${report.updates} updated, ${report.unchanged} unchanged${dryRun ? ' (dry run: nothing written)' : ''}`,
        );
      } finally {
        await database.close();
      }
    });
  return command;
}
