import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { accountsRoutes } from '../accounts/accounts.routes.js';
import { accountsImportRoutes } from '../accounts/accounts-import.routes.js';
import { apiKeysRoutes } from '../api-keys/api-keys.routes.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { accessControl } from '../auth/access.js';
import { authRoutes } from '../auth/auth.routes.js';
import { createAuthService } from '../auth/auth.service.js';
import { type Clock, systemClock } from '../auth/clock.js';
import { checklistRoutes } from '../checklist/checklist.routes.js';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../config/config.js';
import { type Database, threadDatabaseOf } from '../db/database.js';
import { enrollmentsRoutes } from '../enrollments/enrollments.routes.js';
import { healthRoutes } from '../health/health.routes.js';
import type { Mailer } from '../mail/mailer.js';
import { programsRoutes } from '../programs/programs.routes.js';
import { createIngestion, OVERLAPPED_COMMITS } from '../tracking/ingest.js';
import { ingestRoutes } from '../tracking/ingest.routes.js';
import { replayRoutes } from '../tracking/replay.routes.js';
import { createEventRetention } from '../tracking/retention.js';
import { timelineRoutes } from '../tracking/timeline.routes.js';
import { startTrackerThread } from '../tracking/tracker-thread.js';
import { createTracking, type Tracking } from '../tracking/tracking.js';
import { createWriteKeyChecker } from '../tracking/write-keys.js';
import { usersRoutes } from '../users/users.routes.js';
import { createUsersService } from '../users/users.service.js';
import { workspacesRoutes } from '../workspaces/workspaces.routes.js';
import { loggerOptions } from './logging.js';
import { registerOpenApi } from './openapi.js';
import { notFoundHandler, problemErrorHandler } from './problem.js';
import { defaultWebRoot, registerWeb, servePage } from './web.js';

export interface ServerOptions {
  database: Pick<Database, 'db' | 'dialect' | 'sqlite'>;
  logLevel?: string;
  /** A stream for the logs (tests read them); standard output by default. */
  logStream?: NodeJS.WritableStream;
  webRoot?: string;
  clock?: Clock;
  /** The dashboard's public address, for links in invitations; the request's origin otherwise. */
  publicUrl?: string;
  /** Sign-in attempts per IP address per minute. */
  signInRateLimit?: number;
  /** Email delivery; invitations are only shown to the admin without it. */
  mailer?: Mailer | null;
  /** The server secret identity-verification secrets derive from (random per process if unset). */
  serverSecret?: string;
  /** Ingestion requests per second per write key. */
  ingestRateLimit?: number;
  /** Days raw events are kept (`WAYMARK_EVENT_RETENTION_DAYS`); older ones are deleted hourly. */
  eventRetentionDays?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Follows the stored events and completes milestones from them. */
    tracker: Tracking;
  }
}

/** The composition root: every feature registers its own routes over narrow dependencies. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { db } = options.database;
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    logger: {
      ...loggerOptions(options.logLevel ?? 'info'),
      ...(options.logStream && { stream: options.logStream }),
    },
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemErrorHandler);

  // Security headers everywhere; the pages' own CSP is set where pages are served.
  await app.register(fastifyHelmet, { contentSecurityPolicy: false, hsts: false });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  await registerOpenApi(app);
  await app.register(accessControl, { db, clock });

  const auth = createAuthService({ db, clock });
  const users = createUsersService({ db, clock });
  const publicUrl = (origin: string) => options.publicUrl ?? origin;
  const serverSecret = options.serverSecret ?? randomBytes(32).toString('hex');

  await app.register(healthRoutes({ database: options.database }));
  await app.register(
    authRoutes({
      db,
      auth,
      signInRateLimit: options.signInRateLimit ?? 30,
      secureCookies: options.publicUrl?.startsWith('https://') ?? false,
    }),
  );
  await app.register(usersRoutes({ db, users, publicUrl, mailer: options.mailer ?? null }));
  const writeKeys = createWriteKeyChecker({ db, clock });
  await app.register(apiKeysRoutes({ db, clock, serverSecret, onRevoked: writeKeys.forget }));
  await app.register(auditRoutes({ db }));
  await app.register(workspacesRoutes({ db, clock }));
  await app.register(accountsRoutes({ db, clock }));
  await app.register(accountsImportRoutes({ db, clock }));
  await app.register(enrollmentsRoutes({ db, clock }));
  await app.register(checklistRoutes({ db, serverSecret }));
  await app.register(programsRoutes({ db, clock }));
  await app.register(replayRoutes({ database: options.database }));
  await app.register(timelineRoutes({ db, dialect: options.database.dialect }));

  // The tracking runs on a thread of its own, beside the requests, which also commits the
  // events (decisions 0015, 0017 and 0019); on this one only for an SQLite database in memory.
  const thread = threadDatabaseOf(options.database);
  const tracker =
    thread === undefined
      ? createTracking({ database: options.database, clock, log: app.log })
      : startTrackerThread({ database: thread, clock, log: app.log });
  app.decorate('tracker', tracker);
  app.addHook('onReady', async () => tracker.start());
  app.addHook('onClose', async () => tracker.stop());
  const retention = createEventRetention({
    database: options.database,
    clock,
    log: app.log,
    retentionDays: options.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS,
  });
  app.addHook('onReady', async () => retention.start());
  app.addHook('onClose', async () => retention.stop());
  await app.register(
    ingestRoutes({
      ingestion: createIngestion({
        database: options.database,
        write: tracker.writeEvents,
        pacing: OVERLAPPED_COMMITS,
      }),
      writeKeys,
      clock,
      rateLimit: options.ingestRateLimit ?? 2000,
    }),
  );

  const web = await registerWeb(app, options.webRoot ?? defaultWebRoot);
  app.setNotFoundHandler((request, reply) =>
    web && servePage(request, reply) ? reply : notFoundHandler(request, reply),
  );
  return app;
}
