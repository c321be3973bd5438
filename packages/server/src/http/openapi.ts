import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { WAYMARK_VERSION } from '../version.js';

/**
 * The OpenAPI document is generated from the same zod schemas that validate
 * requests, so it cannot drift from what the server accepts.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Waymark API',
        version: WAYMARK_VERSION,
        description:
          'Customer onboarding milestones, tracked from product usage and verified by your customers. ' +
          'Errors are RFC 9457 problem details (application/problem+json).',
      },
      tags: [
        {
          name: 'operations',
          description: 'Health and readiness for load balancers and orchestrators',
        },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    staticCSP: true,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
