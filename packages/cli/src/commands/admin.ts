import {
  countWorkspaces,
  createAuthService,
  emailSchema,
  findWorkspaceBySlug,
  HttpProblem,
  loadConfig,
  migrateToLatest,
  newPasswordSchema,
  openDatabase,
  systemClock,
  timeZoneSchema,
} from '@waymark/server';
import { Command } from 'commander';
import { z } from 'zod';
import { say } from './say.js';

const optionsSchema = z.object({
  email: emailSchema,
  name: z.string().trim().min(1, { message: 'give a name' }),
  workspace: z.string().min(1).optional(),
  workspaceName: z.string().trim().min(1).default('My workspace'),
  timeZone: timeZoneSchema.default('UTC'),
});

/** The password comes from standard input (one line) or WAYMARK_ADMIN_PASSWORD: never from argv, which `ps` shows. */
async function readPassword(): Promise<string> {
  if (process.env.WAYMARK_ADMIN_PASSWORD) return process.env.WAYMARK_ADMIN_PASSWORD;
  if (process.stdin.isTTY)
    throw new Error('pipe the password on standard input, or set WAYMARK_ADMIN_PASSWORD');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

function fail(message: string): never {
  say(false, message);
  process.exit(1);
}

export function adminCommand(): Command {
  const admin = new Command('admin').description('manage administrators');
  admin
    .command('create')
    .description(
      'create an admin; on an empty database also its workspace (password on stdin or WAYMARK_ADMIN_PASSWORD)',
    )
    .requiredOption('--email <email>', 'the admin’s email')
    .requiredOption('--name <name>', 'the admin’s name')
    .option('--workspace <slug>', 'the workspace to add the admin to (needed once one exists)')
    .option('--workspace-name <name>', 'name of the new workspace, on an empty database')
    .option('--time-zone <zone>', 'time zone of the new workspace, on an empty database')
    .action(async (raw: Record<string, string | undefined>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success)
        fail(
          parsed.error.issues
            .map(
              (i) =>
                `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`,
            )
            .join('; '),
        );
      const password = newPasswordSchema.safeParse(await readPassword());
      if (!password.success) fail(`password: ${password.error.issues[0]?.message}`);
      const options = parsed.data;
      const database = openDatabase(loadConfig());
      try {
        await migrateToLatest(database);
        const auth = createAuthService({ db: database.db, clock: systemClock });
        if ((await countWorkspaces(database.db)) === 0) {
          const { workspace } = await auth.createWorkspaceWithAdmin({
            workspaceName: options.workspaceName,
            timeZone: options.timeZone,
            name: options.name,
            email: options.email,
            password: password.data,
          });
          say(
            true,
            `created workspace “${workspace.name}” (${workspace.slug}) and its admin ${options.email}`,
          );
          return;
        }
        if (!options.workspace) fail('a workspace exists already: name it with --workspace <slug>');
        const workspace = await findWorkspaceBySlug(database.db, options.workspace);
        if (!workspace) fail(`no workspace with the slug ${options.workspace}`);
        await auth.addAdmin(workspace.id, {
          name: options.name,
          email: options.email,
          password: password.data,
        });
        say(true, `created admin ${options.email} in ${workspace.slug}`);
      } catch (error) {
        if (error instanceof HttpProblem) fail(error.detail ?? error.title);
        throw error;
      } finally {
        await database.close();
      }
    });
  return admin;
}
