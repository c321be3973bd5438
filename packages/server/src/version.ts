import { readFileSync } from 'node:fs';

/** The server package's version: the same file sits one level above both src/ and dist/. */
export const WAYMARK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
