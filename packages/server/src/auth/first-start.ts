import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import { countWorkspaces } from '../workspaces/workspaces.repo.js';
import { createAuthService } from './auth.service.js';
import type { Clock } from './clock.js';

export type FirstStart =
  | { kind: 'ready' }
  | { kind: 'admin-created'; email: string }
  | { kind: 'setup-link'; link: string };

/**
 * On an empty database: the admin named by the environment, or a one-time set-up
 * link. There is never a default password.
 */
export async function prepareFirstStart(
  db: Db,
  clock: Clock,
  config: Pick<Config, 'WAYMARK_ADMIN_EMAIL' | 'WAYMARK_ADMIN_PASSWORD' | 'WAYMARK_WORKSPACE_NAME'>,
  baseUrl: string,
): Promise<FirstStart> {
  if ((await countWorkspaces(db)) > 0) return { kind: 'ready' };
  const auth = createAuthService({ db, clock });
  if (config.WAYMARK_ADMIN_EMAIL && config.WAYMARK_ADMIN_PASSWORD) {
    await auth.createWorkspaceWithAdmin({
      workspaceName: config.WAYMARK_WORKSPACE_NAME,
      timeZone: 'UTC',
      name: 'Administrator',
      email: config.WAYMARK_ADMIN_EMAIL,
      password: config.WAYMARK_ADMIN_PASSWORD,
    });
    return { kind: 'admin-created', email: config.WAYMARK_ADMIN_EMAIL };
  }
  return { kind: 'setup-link', link: `${baseUrl}/setup?token=${await auth.createSetupToken()}` };
}
