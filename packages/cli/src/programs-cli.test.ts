import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProgramYaml } from '@waymark/core';
import {
  createTestDatabase,
  makeWorkspace,
  type TestDatabase,
  testEngines,
} from '@waymark/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli } from './testing/built-cli.js';

const templates = fileURLToPath(new URL('../../../templates/', import.meta.url));

const program = (key: string, trainingDay = 18) =>
  [
    `key: ${key}`,
    'name: CLI program',
    'phases:',
    '  - { key: all, name: All, startDay: 0, endDay: 60 }',
    'milestones:',
    '  - key: kickoff',
    '    title: Kickoff held',
    '    phase: all',
    '    targetDay: 3',
    '  - key: training',
    '    title: Team trained',
    '    phase: all',
    `    targetDay: ${trainingDay}`,
    '    dependsOn: [kickoff]',
    '',
  ].join('\n');

beforeAll(assertBuilt);

describe.each(testEngines())('waymark apply, export and templates [%s]', (engine) => {
  let database: TestDatabase;
  let env: Record<string, string | undefined>;
  let dir: string;
  let workspaceId: string;

  const addWorkspace = async (slug: string) =>
    (await makeWorkspace(database.db, { slug, name: slug, timeZone: 'UTC' })).id;

  const programKeys = async () =>
    (
      await database.db
        .selectFrom('programs')
        .select('key')
        .where('workspace_id', '=', workspaceId)
        .execute()
    ).map((row) => row.key);

  const file = (name: string, text: string) => {
    const where = path.join(dir, name);
    writeFileSync(where, text);
    return where;
  };

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    env = { ...database.env };
    dir = mkdtempSync(path.join(os.tmpdir(), 'waymark-cli-programs-'));
    workspaceId = await addWorkspace('only-one');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await database.drop();
  });

  it('applies a file once: the second time nothing changes; a change is a draft; --publish publishes', async () => {
    const onboarding = file('onboarding.yaml', program('onboarding'));
    const first = await runCli(['apply', onboarding], env);
    expect(first.stderr).toContain('✓ onboarding: draft v1 saved');
    expect(first.code).toBe(0);
    const second = await runCli(['apply', onboarding], env);
    expect(second.stderr).toContain('✓ onboarding: unchanged');
    expect(second.code).toBe(0);

    const published = await runCli(['apply', onboarding, '--publish'], env);
    expect(published.stderr).toContain('✓ onboarding: v1 published');
    const again = await runCli(['apply', onboarding, '--publish'], env);
    expect(again.stderr).toContain('✓ onboarding: unchanged');

    writeFileSync(onboarding, program('onboarding', 21));
    const changed = await runCli(['apply', onboarding], env);
    expect(changed.stderr).toContain('✓ onboarding: draft v2 saved');

    const events = await database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'context'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.action)).toEqual([
      'program.created',
      'program_version.created',
      'program_version.published',
      'program_version.created',
    ]);
    for (const event of events) {
      expect(event.actor_type).toBe('system');
      expect(JSON.parse(event.context ?? '{}')).toEqual({ via: 'cli' });
    }
  });

  it('refuses a broken file with file:line:column and saves none of the files', async () => {
    const good = file('good.yaml', program('good-one'));
    const broken = file(
      'broken.yaml',
      program('broken-one')
        .replace('targetDay: 3', 'targetDay: soon')
        .replace('[kickoff]', '[nowhere]'),
    );
    const result = await runCli(['apply', good, broken], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${broken}:9:16: `);
    expect(result.stderr).toMatch(/✗ nothing saved/);
    expect(result.stderr).not.toContain('    at ');
    const keys = await programKeys();
    expect(keys).not.toContain('good-one');
    expect(keys).not.toContain('broken-one');
  });

  it('exports a program as YAML that reads back to what was applied', async () => {
    const text = program('round-trip');
    const source = file('round-trip.yaml', text);
    expect((await runCli(['apply', source], env)).code).toBe(0);
    const exported = await runCli(['export', 'round-trip'], env);
    expect(exported.code).toBe(0);
    const back = parseProgramYaml(exported.stdout, 'exported.yaml');
    const original = parseProgramYaml(text, 'round-trip.yaml');
    expect(back.ok && back.value).toEqual(original.ok && original.value);

    const reapplied = file('reapplied.yaml', exported.stdout);
    expect((await runCli(['apply', reapplied], env)).stderr).toContain('✓ round-trip: unchanged');

    const old = await runCli(['export', 'onboarding', '--version', '1'], env);
    expect(old.stdout).toContain('targetDay: 18');
    const latest = await runCli(['export', 'onboarding'], env);
    expect(latest.stdout).toContain('targetDay: 21');
    const missing = await runCli(['export', 'no-such-program'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('✗ no program no-such-program');
  });

  const templateNames = readdirSync(templates)
    .filter((n) => n.endsWith('.yaml'))
    .map((n) => n.replace(/\.yaml$/, ''))
    .sort();

  it('lists the four templates', async () => {
    expect(templateNames).toHaveLength(4);
    const list = await runCli(['templates', 'list'], env);
    expect(list.code).toBe(0);
    for (const name of templateNames) expect(list.stdout).toContain(name);
    const unknown = await runCli(['templates', 'apply', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('✗ no template nope');
  });

  it.each(templateNames)('applies the %s template and exports it back', async (name) => {
    const applied = await runCli(['templates', 'apply', name, '--publish'], env);
    expect(applied.stderr).toContain(`✓ ${name}: v1 published`);
    expect(applied.code).toBe(0);
    const exported = await runCli(['export', name], env);
    const template = parseProgramYaml(readFileSync(`${templates}${name}.yaml`, 'utf8'), name);
    const back = parseProgramYaml(exported.stdout, name);
    expect(back.ok && back.value).toEqual(template.ok && template.value);
  });

  it('needs --workspace once there are several workspaces', async () => {
    const otherId = await addWorkspace('second-ws');
    const source = file('second.yaml', program('in-second'));
    const refused = await runCli(['apply', source], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('name one with --workspace <slug>');
    const named = await runCli(['apply', source, '--workspace', 'second-ws'], env);
    expect(named.stderr).toContain('✓ in-second: draft v1 saved');
    const rows = await database.db
      .selectFrom('programs')
      .select('workspace_id')
      .where('key', '=', 'in-second')
      .execute();
    expect(rows).toEqual([{ workspace_id: otherId }]);
    const unknown = await runCli(['apply', source, '--workspace', 'nowhere'], env);
    expect(unknown.stderr).toContain('✗ no workspace with the slug nowhere');
  });
});
