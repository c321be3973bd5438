import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createTestDatabase, type TestDatabase, testEngines } from '@waymark/server/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, bin, cliEnv, runCli } from './testing/built-cli.js';

beforeAll(assertBuilt);

describe('waymark command', () => {
  it('prints its version', async () => {
    const { code, stdout } = await runCli(['version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^waymark \d+\.\d+\.\d+ \(node v\d+/);
  });

  it('explains its commands and the environment in --help', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const word of [
      'serve',
      'migrate',
      'version',
      'DATABASE_URL',
      'WAYMARK_DATA_DIR',
      'PORT',
    ]) {
      expect(stdout).toContain(word);
    }
  });

  it('refuses an unknown command with a pointer to --help', async () => {
    const { code, stderr } = await runCli(['frobnicate']);
    expect(code).not.toBe(0);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });

  it('stops on bad configuration, naming each variable', async () => {
    const { code, stderr } = await runCli(['serve'], { PORT: 'eighty', LOG_LEVEL: 'shouty' });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT: ');
    expect(stderr).toContain('LOG_LEVEL: ');
    expect(stderr).not.toContain('    at '); // no stack trace
  });
});

describe.each(testEngines())('waymark on %s', (engine) => {
  let database: TestDatabase | undefined;
  let server: ChildProcess | undefined;
  afterEach(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    await database?.drop();
  });

  /** Starts `waymark serve` on a free port and resolves with its URL and what it said. */
  async function serve(env: Record<string, string | undefined>) {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: cliEnv({ ...env, HOST: '127.0.0.1' }),
    });
    server = child;
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => {
      output.stdout += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        output.stderr += d;
        const match = /✓ listening on (http:\/\/\S+)/.exec(output.stderr);
        // the listening line comes last, after any first-start line
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) =>
        reject(new Error(`serve exited with ${code}: ${output.stderr}`)),
      );
    });
    return { child, url, output };
  }

  it('on an empty database prints a one-time set-up link that works once', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const { url, output } = await serve(database.env);
    const link = /✓ no admin yet: open (\S+) within 24 hours/.exec(output.stderr)?.[1];
    expect(link).toMatch(/\/setup\?token=wm_setup_/);
    expect(output.stdout).not.toContain(new URL(link ?? 'http://x').searchParams.get('token'));
    const token = new URL(link ?? '').searchParams.get('token');
    const body = {
      token,
      workspaceName: 'Acme',
      timeZone: 'Europe/Berlin',
      name: 'Ada',
      email: 'ada@example.com',
      password: 'twelve chars ok',
    };
    const post = () =>
      fetch(`${url}/api/v1/setup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await post();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      user: { email: 'ada@example.com', role: 'admin' },
      workspace: { name: 'Acme' },
    });
    expect((await post()).status).toBe(401);
  });

  it('creates the first admin from WAYMARK_ADMIN_EMAIL and WAYMARK_ADMIN_PASSWORD, with no default password anywhere', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const { url, output } = await serve({
      ...database.env,
      WAYMARK_ADMIN_EMAIL: 'ops@example.com',
      WAYMARK_ADMIN_PASSWORD: 'from-the-environment',
    });
    expect(output.stderr).toContain('✓ created the first admin, ops@example.com');
    expect(output.stdout + output.stderr).not.toContain('from-the-environment');
    const login = (password: string) =>
      fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@example.com', password }),
      });
    expect((await login('from-the-environment')).status).toBe(200);
    for (const guess of ['admin', 'password', 'waymark', 'changeme'])
      expect((await login(guess)).status).toBe(401);
  });

  it('admin create takes the password on standard input', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const child = spawn(
      process.execPath,
      [
        bin,
        'admin',
        'create',
        '--email',
        'cli@example.com',
        '--name',
        'Cli Admin',
        '--workspace-name',
        'From CLI',
      ],
      {
        env: cliEnv(database.env),
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.stdin.end('a password from stdin\n');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toMatch(
      /✓ created workspace “From CLI” \(from-cli-[0-9a-f]{6}\) and its admin cli@example.com/,
    );
    expect(code).toBe(0);
    const again = await runCli(
      ['admin', 'create', '--email', 'second@example.com', '--name', 'Second'],
      { ...database.env, WAYMARK_ADMIN_PASSWORD: 'another long one' },
    );
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toContain('a workspace exists already: name it with --workspace <slug>');
    const short = await runCli(['admin', 'create', '--email', 'x@example.com', '--name', 'X'], {
      ...database.env,
      WAYMARK_ADMIN_PASSWORD: 'short',
    });
    expect(short.stderr).toContain('password: use at least 12 characters');
  });

  it('finishes a request in flight when SIGTERM arrives, then exits 0', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const credentials = {
      WAYMARK_ADMIN_EMAIL: 'ops@example.com',
      WAYMARK_ADMIN_PASSWORD: 'from-the-environment',
    };
    const { child, url, output } = await serve({ ...database.env, ...credentials });
    const body = JSON.stringify({ email: 'ops@example.com', password: 'from-the-environment' });
    const request = http.request(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const answered = new Promise<number | undefined>((resolve, reject) => {
      request.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      request.on('error', reject);
    });
    // Half the body now; the server logs the request as it arrives.
    request.write(body.slice(0, 10));
    await new Promise<void>((resolve) => {
      const seen = () => output.stdout.includes('"url":"/api/v1/auth/login"') && resolve();
      child.stdout.on('data', seen);
      seen();
    });
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => {
      const seen = () =>
        output.stdout.includes('stopping: finishing requests in flight') && resolve();
      child.stdout.on('data', seen);
      seen();
    });
    request.end(body.slice(10));
    expect(await answered).toBe(200);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('migrate applies the schema once, and --status tells', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const first = await runCli(['migrate'], database.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('✓ applied: 0001-foundation');
    if (engine === 'sqlite')
      expect(existsSync(path.join(database.env.WAYMARK_DATA_DIR, 'waymark.db'))).toBe(true);
    const second = await runCli(['migrate'], database.env);
    expect(second.stderr).toContain('already up to date');
    const status = await runCli(['migrate', '--status'], database.env);
    expect(status.stderr).toContain('✓ 0001-foundation applied');
  });

  it('serve migrates, answers, and stops cleanly on SIGTERM', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    // The server trusts local connections, so a made-up password proves it is never printed.
    const secret = 'pw-that-must-never-be-printed';
    const env = { ...database.env };
    if (env.DATABASE_URL)
      env.DATABASE_URL = env.DATABASE_URL.replace('postgres@', `postgres:${secret}@`);
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: cliEnv({ ...env, HOST: '127.0.0.1' }),
    });
    server = child;
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        const match = /✓ listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    expect(stderr).toContain(`✓ ${engine} database at`);
    expect(stderr).toContain('applied migrations: 0001-foundation');

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', database: { engine } });

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stdout).toContain('stopping: finishing requests in flight');
    expect(stdout).toContain('"msg":"stopped"');
    if (database.env.DATABASE_URL)
      expect(stdout + stderr).not.toContain(new URL(database.env.DATABASE_URL).search);
  });
});
