import { loadConfig, startServer } from '@waymark/server';
import { Command, Option } from 'commander';
import { environmentHelp } from '../environment-help.js';
import { say } from './say.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('start the HTTP server (applies pending migrations first)')
    .addOption(new Option('-p, --port <port>', 'port to listen on (overrides PORT)'))
    .addOption(new Option('--host <host>', 'interface to listen on (overrides HOST)'))
    .addHelpText('after', environmentHelp())
    .action(async (options: { port?: string; host?: string }) => {
      const config = loadConfig({
        ...process.env,
        ...(options.port !== undefined && { PORT: options.port }),
        ...(options.host !== undefined && { HOST: options.host }),
      });
      await startServer(config, say, { stopOnSignals: true });
    });
}
