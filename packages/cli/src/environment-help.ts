import { describeConfig } from '@waymark/server';

/** The environment variables, from the same schema that parses them. */
export function environmentHelp(): string {
  const rows = describeConfig();
  const width = Math.max(...rows.map((r) => r.name.length));
  return `\nEnvironment:\n${rows.map((r) => `  ${r.name.padEnd(width)}  ${r.description}`).join('\n')}\n`;
}
