import Fastify, { type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Database } from '../db/database.js';
import { healthRoutes } from '../health/health.routes.js';
import { loggerOptions } from './logging.js';
import { registerOpenApi } from './openapi.js';
import { notFoundHandler, problemErrorHandler } from './problem.js';
import { defaultWebRoot, registerWeb } from './web.js';

export interface ServerOptions {
  database: Pick<Database, 'db' | 'dialect'>;
  logLevel?: string;
  /** A stream for the logs (tests read them); standard output by default. */
  logStream?: NodeJS.WritableStream;
  webRoot?: string;
}

/** The composition root: every feature registers its own routes over narrow dependencies. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      ...loggerOptions(options.logLevel ?? 'info'),
      ...(options.logStream && { stream: options.logStream }),
    },
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    requestIdLogLabel: 'requestId',
    disableRequestLogging: false,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler(notFoundHandler);

  await registerOpenApi(app);
  await app.register(healthRoutes({ database: options.database }));
  await registerWeb(app, options.webRoot ?? defaultWebRoot);

  return app;
}
