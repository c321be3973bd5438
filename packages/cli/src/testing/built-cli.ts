import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built command, exactly as `npm start` and users run it. */
export const bin = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** For a beforeAll: the tests run the build, which `npm test` makes first. */
export function assertBuilt(): void {
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: run npm run build first (npm test does)`);
}

/** This process's environment without its DATABASE_URL (each test says which database). */
export function cliEnv(
  extra: Record<string, string | undefined>,
  logLevel = 'info',
): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return { ...env, LOG_LEVEL: logLevel, ...extra };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built command to its end, with `stdin` as its standard input. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  stdin = '',
): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { env: cliEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  child.stdin.end(stdin);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
