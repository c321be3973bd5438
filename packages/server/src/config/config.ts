import path from 'node:path';
import { z } from 'zod';

/** Days raw events are kept when `WAYMARK_EVENT_RETENTION_DAYS` is unset. */
export const DEFAULT_EVENT_RETENTION_DAYS = 400;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every environment variable Waymark reads, with its default and meaning.
 * This schema is the documentation: `waymark serve --help` and the README list it.
 */
export const configSchema = z.object({
  PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(3000)
    .describe('TCP port the HTTP server listens on'),
  HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('interface to listen on; 0.0.0.0 to accept connections from other machines'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional()
    .describe('PostgreSQL connection URL; when unset, Waymark uses the embedded SQLite file'),
  WAYMARK_DATA_DIR: z
    .string()
    .min(1)
    .default('./data')
    .describe('folder for the SQLite database file (waymark.db) and other local data'),
  LOG_LEVEL: z.enum(logLevels).default('info').describe('pino log level'),
  WAYMARK_PUBLIC_URL: z
    .url({ message: 'expected an absolute URL such as https://waymark.example.com' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional()
    .describe('the address people reach Waymark at, for links in invitations and the set-up link'),
  WAYMARK_ADMIN_EMAIL: z
    .email({ message: 'expected an email address' })
    .optional()
    .describe(
      'first start only: create this admin (with WAYMARK_ADMIN_PASSWORD) instead of printing a set-up link',
    ),
  WAYMARK_ADMIN_PASSWORD: z
    .string()
    .min(12, { message: 'use at least 12 characters' })
    .optional()
    .describe("first start only: the first admin's password"),
  WAYMARK_WORKSPACE_NAME: z
    .string()
    .min(1)
    .default('My workspace')
    .describe('first start only: the name of the first workspace'),
  WAYMARK_SMTP_URL: z
    .string()
    .regex(
      /^smtps?:\/\//,
      'expected an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
    )
    .optional()
    .describe(
      'SMTP server for invitations and notifications; without it, invitation links are shown to the admin only',
    ),
  WAYMARK_MAIL_FROM: z
    .string()
    .min(3)
    .default('Waymark <waymark@localhost>')
    .describe('the From address of Waymark’s emails'),
  WAYMARK_SECRET_KEY: z
    .string()
    .min(32, { message: 'use at least 32 characters, e.g. the output of `openssl rand -hex 32`' })
    .optional()
    .describe(
      'server secret that identity-verification secrets derive from; generated into the data folder when unset (set it when several servers share one database)',
    ),
  WAYMARK_SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('how long SIGTERM waits for requests in flight before exiting'),
  WAYMARK_EVENT_RETENTION_DAYS: z.coerce
    .number({ message: 'expected a whole number of days, e.g. 400' })
    .int({ message: 'expected a whole number of days, e.g. 400' })
    .min(1, { message: 'keep raw events at least 1 day' })
    .max(36_500, { message: 'at most 36500 days (100 years)' })
    .default(DEFAULT_EVENT_RETENTION_DAYS)
    .describe(
      'days raw product events are kept; older ones are deleted hourly (progress already made stays)',
    ),
});

export type Config = z.infer<typeof configSchema>;

const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'WAYMARK_ADMIN_PASSWORD',
  'WAYMARK_SMTP_URL',
  'WAYMARK_SECRET_KEY',
]);

export class ConfigError extends Error {
  constructor(readonly faults: string[]) {
    super(`Invalid configuration:\n${faults.map((f) => `  ✗ ${f}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment, listing every fault at once with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(blankToUndefined(env));
  if (result.success) return result.data;
  const faults = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const received = env[name];
    // A connection URL can carry a password: never echo it back.
    const shown =
      received === undefined || SECRET_VARIABLES.has(name)
        ? ''
        : ` (got ${JSON.stringify(received)})`;
    return `${name}: ${issue.message}${shown}`;
  });
  throw new ConfigError(faults);
}

/** An empty variable (`PORT=`) means "not set", as shells and .env files usually intend. */
function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
}

export function sqliteFile(config: Pick<Config, 'WAYMARK_DATA_DIR'>): string {
  return path.resolve(config.WAYMARK_DATA_DIR, 'waymark.db');
}

/** The variables and their descriptions, for help texts. */
export function describeConfig(): Array<{ name: string; description: string }> {
  return Object.entries(configSchema.shape).map(([name, schema]) => ({
    name,
    description: schema.description ?? '',
  }));
}

/** `serve` needs both first-admin variables or neither: half a first admin is a mistake. */
export function assertFirstAdminPair(config: Config): void {
  const email = config.WAYMARK_ADMIN_EMAIL !== undefined;
  const password = config.WAYMARK_ADMIN_PASSWORD !== undefined;
  if (email !== password) {
    throw new ConfigError([
      `${email ? 'WAYMARK_ADMIN_PASSWORD' : 'WAYMARK_ADMIN_EMAIL'}: set WAYMARK_ADMIN_EMAIL and WAYMARK_ADMIN_PASSWORD together`,
    ]);
  }
}
