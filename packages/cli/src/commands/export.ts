import { serializeProgramYaml } from '@waymark/core';
import { findProgramByKey, listProgramVersions } from '@waymark/server';
import { Command, InvalidArgumentError } from 'commander';
import { withWorkspace } from './apply.js';
import { say } from './say.js';

function versionNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a version number, from 1');
  return n;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('print a program as YAML (its latest version unless --version is given)')
    .argument('<programKey>', 'the program key')
    .option('--version <n>', 'the version to print', versionNumber)
    .option('--workspace <slug>', 'the workspace (needed when there is more than one)')
    .action(async (key: string, options: { version?: number; workspace?: string }) => {
      await withWorkspace(options.workspace, async ({ db }, workspaceId) => {
        const program = await findProgramByKey(db, workspaceId, key);
        const versions = program ? await listProgramVersions(db, workspaceId, program.id) : [];
        const version =
          options.version === undefined
            ? versions[versions.length - 1]
            : versions.find((v) => v.version === options.version);
        if (!program || !version) {
          say(
            false,
            program
              ? `${key} has no version ${options.version}`
              : `no program ${key} in this workspace`,
          );
          process.exitCode = 1;
          return;
        }
        process.stdout.write(serializeProgramYaml(version.definition));
      });
    });
}
