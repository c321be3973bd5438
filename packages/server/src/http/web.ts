import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The built dashboard: packages/web/dist, found from both src/ and dist/ of this package. */
export const defaultWebRoot = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Serves the dashboard's static files at `/` when they have been built. */
export async function registerWeb(app: FastifyInstance, root: string): Promise<boolean> {
  if (!fs.existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'the web dashboard is not built (npm run build); serving the API only');
    return false;
  }
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: 'index.html' });
  return true;
}
