import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/** Query parameters whose values must never reach a log line. */
const SECRET_PARAMS = /token|key|secret|password|signature|code/i;

export function redactUrl(url: string): string {
  const [path, query] = url.split('?', 2);
  if (query === undefined) return url;
  const params = new URLSearchParams(query);
  for (const name of [...params.keys()]) {
    if (SECRET_PARAMS.test(name)) params.set(name, '[redacted]');
  }
  return `${path}?${params.toString()}`;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    // Headers are not logged at all; these paths catch anything a handler logs by mistake.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.secret',
        '*.apiKey',
        '*.writeKey',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.ip,
      }),
    },
  };
}
