import type { Db } from '../db/database.js';

/**
 * The workspace a command acts on, for tools with direct database access (the CLI): the one
 * named by its slug, or the only one when there is exactly one. The error says what to do.
 */
export async function chooseWorkspace(
  db: Db,
  slug: string | undefined,
): Promise<{ id: string; slug: string }> {
  if (slug !== undefined) {
    const named = await db
      .selectFrom('workspaces')
      .select(['id', 'slug'])
      .where('slug', '=', slug)
      .executeTakeFirst();
    if (!named) throw new WorkspaceChoiceError(`no workspace with the slug ${slug}`);
    return named;
  }
  const found = await db
    .selectFrom('workspaces')
    .select(['id', 'slug'])
    .orderBy('slug')
    .limit(6)
    .execute();
  const [only] = found;
  if (found.length === 1 && only) return only;
  if (found.length === 0)
    throw new WorkspaceChoiceError('no workspace yet: create one with waymark admin create');
  throw new WorkspaceChoiceError(
    `there are several workspaces: name one with --workspace <slug> (${found
      .slice(0, 5)
      .map((w) => w.slug)
      .join(', ')}${found.length > 5 ? ', …' : ''})`,
  );
}

export class WorkspaceChoiceError extends Error {
  override name = 'WorkspaceChoiceError';
}
