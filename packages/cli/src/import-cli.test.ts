import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase, testEngines } from '@waymark/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressReporter } from './commands/import.js';
import { bin, runCli } from './testing/built-cli.js';

describe.each(testEngines())('waymark import accounts [%s]', (engine) => {
  let database: TestDatabase;
  let dir: string;
  const file = (name: string, lines: string[]) => {
    const where = path.join(dir, name);
    writeFileSync(where, `${lines.join('\n')}\n`);
    return where;
  };
  const count = async () =>
    Number(
      (
        await database.db
          .selectFrom('accounts')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'waymark-import-'));
    database = await createTestDatabase(engine);
    const created = await runCli(
      [
        'admin',
        'create',
        '--email',
        'ops@example.com',
        '--name',
        'Ops',
        '--workspace-name',
        'Imports',
      ],
      { ...database.env, WAYMARK_ADMIN_PASSWORD: 'a long enough password' },
    );
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const good = [
    'external_id,name,segment,owner_email,time_zone,trait.seats',
    'org_1,Acme,Enterprise,ops@example.com,Europe/Berlin,40',
    'org_2,Beta,SMB,,,',
    'org_3,Gamma,,,,7',
  ];

  it('previews with --dry-run and writes nothing', async () => {
    const result = await runCli(
      ['import', 'accounts', file('good.csv', good), '--dry-run'],
      database.env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /✓ would import 3 row\(s\) into imports-[0-9a-f]+: 3 created, 0 updated, 0 unchanged \(dry run: nothing written\)/,
    );
    expect(await count()).toBe(0);
  });

  it('imports, showing progress as plain percentage lines when stderr is not a terminal', async () => {
    const result = await runCli(['import', 'accounts', file('good.csv', good)], database.env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('importing… 100%');
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).toMatch(/✓ imported 3 row\(s\) .*: 3 created, 0 updated/);
    expect(await count()).toBe(3);
    const again = await runCli(
      [
        'import',
        'accounts',
        file('update.csv', ['external_id,name', 'org_2,Beta Renamed', 'org_4,Delta']),
      ],
      database.env,
    );
    expect(again.stderr).toMatch(/1 created, 1 updated/);
    expect(await count()).toBe(4);
  });

  it('lists every row error and imports nothing', async () => {
    const result = await runCli(
      [
        'import',
        'accounts',
        file('bad.csv', [
          'external_id,name,time_zone,owner_email',
          'org_9,Fine,,',
          'org_10,Zone,Mars/Base,',
          'org_11,Owner,,nobody@example.com',
        ]),
      ],
      database.env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('row 3, time_zone: Mars/Base is not an IANA time zone');
    expect(result.stderr).toContain('row 4, owner_email: nobody@example.com is not a person');
    expect(result.stderr).toContain('✗ ');
    expect(result.stderr).toContain('2 error(s) in 3 row(s); nothing was imported');
    expect(await count()).toBe(4);
  });

  it('names an unknown workspace and a missing file', async () => {
    const unknown = await runCli(
      ['import', 'accounts', file('good.csv', good), '--workspace', 'nope'],
      database.env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no workspace with the slug nope');
    const missing = await runCli(
      ['import', 'accounts', path.join(dir, 'absent.csv')],
      database.env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
  });
});

describe('import progress', () => {
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    const stream = {
      isTTY,
      write: (s: string) => written.push(s),
    } as unknown as NodeJS.WriteStream;
    return { stream, written };
  };

  it('redraws one bar on a terminal', () => {
    const { stream, written } = sink(true);
    const progress = progressReporter(stream);
    progress.update(5, 10);
    progress.update(10, 10);
    progress.end();
    expect(written).toEqual([
      `\r[${'#'.repeat(15)}${'-'.repeat(15)}] 50%`,
      `\r[${'#'.repeat(30)}] 100%`,
      '\n',
    ]);
  });

  it('prints a line per tenth otherwise', () => {
    const { stream, written } = sink(false);
    const progress = progressReporter(stream);
    for (let done = 1; done <= 40; done++) progress.update(done, 40);
    progress.end();
    expect(written).toEqual(
      [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `importing… ${p}%\n`),
    );
  });
});
