import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { systemClock } from './auth/clock.js';
import { prepareFirstStart } from './auth/first-start.js';
import { assertFirstAdminPair, type Config } from './config/config.js';
import { loadSecretKey } from './config/secret-key.js';
import { type Database, openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { buildServer } from './http/app.js';
import { createSmtpMailer } from './mail/mailer.js';
import { WAYMARK_VERSION } from './version.js';

export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  url: string;
  /** Stops accepting connections, finishes requests in flight, closes the database. */
  stop(): Promise<void>;
}

export type PreflightLine = (ok: boolean, text: string) => void;

/**
 * Opens the database, applies pending migrations, prepares the first start and
 * listens, saying each step as a ✓/✗ line so an operator sees at once what failed.
 * With `stopOnSignals`, SIGTERM and SIGINT are handled from before the server
 * listens, so a stop request is never met by Node's default (abrupt) exit.
 */
export async function startServer(
  config: Config,
  say: PreflightLine = () => {},
  { stopOnSignals = false }: { stopOnSignals?: boolean } = {},
): Promise<RunningServer> {
  assertFirstAdminPair(config);
  say(true, `Waymark ${WAYMARK_VERSION} on Node ${process.version}`);
  const database = openDatabase(config);
  try {
    const applied = await migrateToLatest(database);
    say(true, `${database.dialect.engine} database at ${database.location}`);
    say(
      true,
      applied.length ? `applied migrations: ${applied.join(', ')}` : 'migrations up to date',
    );
  } catch (error) {
    say(
      false,
      `${database.dialect.engine} database at ${database.location}: ${(error as Error).message}`,
    );
    await database.close().catch(() => {});
    throw error;
  }

  const app = await buildServer({
    database,
    logLevel: config.LOG_LEVEL,
    ...(config.WAYMARK_PUBLIC_URL && { publicUrl: config.WAYMARK_PUBLIC_URL }),
    serverSecret: loadSecretKey(config).key,
    eventRetentionDays: config.WAYMARK_EVENT_RETENTION_DAYS,
    mailer: config.WAYMARK_SMTP_URL
      ? createSmtpMailer(config.WAYMARK_SMTP_URL, config.WAYMARK_MAIL_FROM)
      : null,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await database.close();
    })();
    return stopping;
  };
  if (stopOnSignals) handleSignals(app, stop, config.WAYMARK_SHUTDOWN_GRACE_MS);

  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    say(false, `listen on ${config.HOST}:${config.PORT}: ${(error as Error).message}`);
    await stop();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;

  const first = await prepareFirstStart(
    database.db,
    systemClock,
    config,
    config.WAYMARK_PUBLIC_URL ?? url,
  );
  if (first.kind === 'admin-created') say(true, `created the first admin, ${first.email}`);
  // Said on the console for the operator, never written to the logs.
  if (first.kind === 'setup-link')
    say(true, `no admin yet: open ${first.link} within 24 hours to set up Waymark`);
  say(true, `listening on ${url}`);
  return { app, database, url, stop };
}

/**
 * SIGTERM and SIGINT stop the server gracefully: no new connections, requests in
 * flight finish (up to the grace period), then the process exits.
 */
function handleSignals(app: FastifyInstance, stop: () => Promise<void>, graceMs: number): void {
  closeWithGrace({ delay: graceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'stopping after an unexpected error');
    else app.log.info({ signal }, 'stopping: finishing requests in flight');
    await stop();
    app.log.info('stopped');
  });
}
