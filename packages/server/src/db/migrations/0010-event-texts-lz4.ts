import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL compresses a batch's texts (its calls and their payloads, 10–40 KB a row) as it
 * stores them out of line. Its default method, pglz, took about 40% of storing a batch; lz4 takes
 * a fraction of that for the same size on disk (decision 0018). Rows stored before keep pglz; a
 * server built without lz4 keeps it too. SQLite stores texts as they are.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect) {
  if (dialect.engine !== 'postgres') return;
  await sql`do $$ begin
      alter table event_batches
        alter column calls set compression lz4,
        alter column payloads set compression lz4;
    exception when feature_not_supported then null;
    end $$`.execute(db);
}
