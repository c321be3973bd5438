import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Under a steady stream of events the tracking writes every active enrollment's metrics once a
 * second. On PostgreSQL each write is a new row version: with room left on its page it stays
 * there (a HOT update) and the old one is cleared as the page is next read, without a vacuum and
 * without a new entry in every index; on full pages only about a third were (decision 0018).
 * Pages are filled to half from now on, as rows are written; rows already stored move as they
 * are updated.
 *
 * The index of every `rebuild_requested_at`, nulls included, goes: every query of requests reads
 * the partial index of those that are set (migration 0007), and every update that left its page
 * wrote an entry into it too.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  await db.schema.dropIndex('enrollment_metrics_rebuild').execute();
  if (dialect.engine !== 'postgres') return;
  await sql`alter table enrollment_metrics set (fillfactor = 50)`.execute(db);
}
