import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect.js';
import * as foundation from './0001-foundation.js';
import * as access from './0002-access.js';
import * as programArchive from './0003-program-archive.js';
import * as tracking from './0004-tracking.js';
import * as accountEvents from './0005-account-events.js';
import * as accountEventsByDay from './0006-account-events-by-day.js';
import * as trackingVersion from './0007-tracking-version.js';
import * as accountRefs from './0008-account-refs.js';
import * as eventBatches from './0009-event-batches.js';
import * as eventTextsLz4 from './0010-event-texts-lz4.js';
import * as metricsRoomToUpdate from './0011-metrics-room-to-update.js';
import * as workspaceRefs from './0012-workspace-refs.js';

/** A migration receives the dialect seam, so one file serves both engines. */
export interface WaymarkMigration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** In order. Migrations are forward-only: a published migration is never edited. */
export const migrations: Record<string, WaymarkMigration> = {
  '0001-foundation': foundation,
  '0002-access': access,
  '0003-program-archive': programArchive,
  '0004-tracking': tracking,
  '0005-account-events': accountEvents,
  '0006-account-events-by-day': accountEventsByDay,
  '0007-tracking-version': trackingVersion,
  '0008-account-refs': accountRefs,
  '0009-event-batches': eventBatches,
  '0010-event-texts-lz4': eventTextsLz4,
  '0011-metrics-room-to-update': metricsRoomToUpdate,
  '0012-workspace-refs': workspaceRefs,
};
