import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/**
 * The server secret: `WAYMARK_SECRET_KEY`, or `secret.key` in the data folder,
 * created on first start (readable by its owner only) so a single server needs no setting.
 */
export function loadSecretKey(config: Pick<Config, 'WAYMARK_SECRET_KEY' | 'WAYMARK_DATA_DIR'>): {
  key: string;
  source: string;
} {
  if (config.WAYMARK_SECRET_KEY)
    return { key: config.WAYMARK_SECRET_KEY, source: 'WAYMARK_SECRET_KEY' };
  const file = path.resolve(config.WAYMARK_DATA_DIR, 'secret.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { key: fs.readFileSync(file, 'utf8').trim(), source: file };
}
