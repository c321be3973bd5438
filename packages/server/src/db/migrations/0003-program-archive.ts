import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Archived programs: nothing is ever deleted (enrollments stay pinned to their versions), but an
 * archived program leaves the default listing and takes no new versions or enrollments.
 */
export async function up(db: Kysely<unknown>, { types }: Dialect) {
  await db.schema.alterTable('programs').addColumn('archived_at', types.instant).execute();
}
