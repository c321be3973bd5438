import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProgramYaml } from '@waymark/core';
import { Command } from 'commander';
import { applyFiles } from './apply.js';
import { say } from './say.js';

/** The built-in programs: templates/ at the top of the repository, from both src/ and dist/. */
export const templatesFolder = fileURLToPath(new URL('../../../../templates/', import.meta.url));

const templateNames = () =>
  readdirSync(templatesFolder)
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => name.replace(/\.yaml$/, ''))
    .sort();

export function templatesCommand(): Command {
  const templates = new Command('templates').description('built-in programs to start from');
  templates
    .command('list')
    .description('list the built-in programs')
    .action(() => {
      for (const name of templateNames()) {
        const parsed = parseProgramYaml(
          readFileSync(`${templatesFolder}${name}.yaml`, 'utf8'),
          `${name}.yaml`,
        );
        const title = parsed.ok
          ? `${parsed.value.name} (${parsed.value.milestones.length} milestones)`
          : '';
        process.stdout.write(`${name}\t${title}\n`);
      }
    });
  templates
    .command('apply')
    .description('save a built-in program into the workspace')
    .argument('<name>', 'the template, as `waymark templates list` names it')
    .option('--publish', 'publish it, so new enrollments use it')
    .option('--workspace <slug>', 'the workspace (needed when there is more than one)')
    .action(async (name: string, options: { publish?: boolean; workspace?: string }) => {
      const names = templateNames();
      if (!names.includes(name)) {
        say(false, `no template ${name}: one of ${names.join(', ')}`);
        process.exitCode = 1;
        return;
      }
      await applyFiles([`${templatesFolder}${name}.yaml`], options);
    });
  return templates;
}
