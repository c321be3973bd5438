import { WAYMARK_VERSION } from '@waymark/server';
import { Command } from 'commander';

export function versionCommand(): Command {
  return new Command('version')
    .description('print the version of Waymark and of Node.js')
    .action(() => {
      process.stdout.write(`waymark ${WAYMARK_VERSION} (node ${process.version})\n`);
    });
}
