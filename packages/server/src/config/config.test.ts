import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, sqliteFile } from './config.js';

describe('configuration from the environment', () => {
  it('starts on SQLite in ./data on port 3000 when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      WAYMARK_DATA_DIR: './data',
      LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(sqliteFile(config)).toMatch(/data\/waymark\.db$/);
  });

  it('reads PORT, DATABASE_URL and the data folder', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@db/waymark',
      WAYMARK_DATA_DIR: '/var/lib/waymark',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      DATABASE_URL: 'postgres://u@db/waymark',
      WAYMARK_DATA_DIR: '/var/lib/waymark',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it('lists every fault at once, naming the variable and what it got', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const { faults, message } = error as ConfigError;
    expect(faults).toHaveLength(2);
    expect(faults[0]).toMatch(/^PORT: .*\(got "eighty"\)$/);
    expect(faults[1]).toMatch(/^LOG_LEVEL: .*\(got "loud"\)$/);
    expect(message).toContain('✗ PORT');
  });

  it('never echoes a database URL, which can hold a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(
      /DATABASE_URL: expected a postgres/,
    );
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('keeps raw events 400 days unless WAYMARK_EVENT_RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).WAYMARK_EVENT_RETENTION_DAYS).toBe(400);
    expect(loadConfig({ WAYMARK_EVENT_RETENTION_DAYS: '90' }).WAYMARK_EVENT_RETENTION_DAYS).toBe(
      90,
    );
    expect(loadConfig({ WAYMARK_EVENT_RETENTION_DAYS: '' }).WAYMARK_EVENT_RETENTION_DAYS).toBe(400);
  });

  it.each([
    ['0', 'keep raw events at least 1 day'],
    ['-5', 'keep raw events at least 1 day'],
    ['1.5', 'expected a whole number of days, e.g. 400'],
    ['a year', 'expected a whole number of days, e.g. 400'],
    ['99999', 'at most 36500 days (100 years)'],
  ])('refuses WAYMARK_EVENT_RETENTION_DAYS=%s, saying why', (value, reason) => {
    expect(() => loadConfig({ WAYMARK_EVENT_RETENTION_DAYS: value })).toThrow(
      `WAYMARK_EVENT_RETENTION_DAYS: ${reason} (got ${JSON.stringify(value)})`,
    );
  });

  it('documents every variable', () => {
    for (const { name, description } of describeConfig()) {
      expect(description, name).not.toBe('');
    }
  });
});

describe('first admin variables', () => {
  it('must come as a pair for serve', async () => {
    const { assertFirstAdminPair } = await import('./config.js');
    expect(() =>
      assertFirstAdminPair(loadConfig({ WAYMARK_ADMIN_EMAIL: 'a@example.com' })),
    ).toThrow(
      /WAYMARK_ADMIN_PASSWORD: set WAYMARK_ADMIN_EMAIL and WAYMARK_ADMIN_PASSWORD together/,
    );
    expect(() => assertFirstAdminPair(loadConfig({}))).not.toThrow();
  });
});
