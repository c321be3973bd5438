import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The built dashboard: packages/web/dist, found from both src/ and dist/ of this package. */
export const defaultWebRoot = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/**
 * The dashboard's pages load nothing but their own files: no inline script or
 * style, no other origin, and no framing.
 */
export const WEB_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Serves the dashboard's static files at `/` when they have been built. */
export async function registerWeb(app: FastifyInstance, root: string): Promise<boolean> {
  if (!fs.existsSync(`${root}/index.html`)) {
    app.log.warn({ root }, 'the web dashboard is not built (npm run build); serving the API only');
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    setHeaders: (res) => {
      res.setHeader('content-security-policy', WEB_CONTENT_SECURITY_POLICY);
      res.setHeader('referrer-policy', 'no-referrer');
    },
  });
  return true;
}

/**
 * The dashboard routes in the browser (`/login`, `/setup`…): a page request for
 * any other path gets index.html. API paths and non-HTML requests are not pages.
 */
export function servePage(request: FastifyRequest, reply: FastifyReply): boolean {
  const path = request.url.split('?')[0] ?? '';
  const isPage =
    request.method === 'GET' &&
    !path.startsWith('/api/') &&
    !path.startsWith('/v1/') &&
    !path.includes('.') &&
    (request.headers.accept ?? '').includes('text/html');
  if (!isPage) return false;
  reply
    .header('content-security-policy', WEB_CONTENT_SECURITY_POLICY)
    .header('referrer-policy', 'no-referrer');
  void reply.sendFile('index.html');
  return true;
}
