import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import { z } from 'zod';

/** RFC 9457 problem details, as every error leaves the API. */
export const problemSchema = z
  .object({
    type: z.string().describe('a URI naming the kind of problem'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('one entry per invalid field'),
  })
  .passthrough();
export type Problem = z.infer<typeof problemSchema>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const problemType = (slug: string) => `urn:waymark:problem:${slug}`;

/** Thrown by routes and services to answer with a specific problem. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

/** A 400 naming one field and its fault, as schema validation does. */
export function invalidField(field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'validation', 'The request is invalid', `${field}: ${message}`, {
    errors: [{ field, message }],
  });
}

/** A 404 that says what was looked for, and never whether it exists elsewhere. */
export function notFound(what: string): HttpProblem {
  return new HttpProblem(404, 'not-found', 'Not found', `no such ${what}`);
}

function validationProblem(error: FastifyError): Problem {
  const where = error.validationContext ?? 'request';
  const errors = (error.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    return { field: path ? `${where}.${path}` : where, message: v.message ?? 'is invalid' };
  });
  return {
    type: problemType('validation'),
    title: 'The request is invalid',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  };
}

export function toProblem(error: FastifyError | Error, request: FastifyRequest): Problem {
  const instance = request.url;
  if (error instanceof HttpProblem) {
    return {
      type: problemType(error.slug),
      title: error.title,
      status: error.status,
      ...(error.detail !== undefined && { detail: error.detail }),
      instance,
      ...error.extra,
    };
  }
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError) || fastifyError.validation) {
    return { ...validationProblem(fastifyError), instance };
  }
  if (isResponseSerializationError(error)) {
    return { type: problemType('internal'), title: 'Internal server error', status: 500, instance };
  }
  const status = fastifyError.statusCode ?? 500;
  if (status >= 500) {
    return { type: problemType('internal'), title: 'Internal server error', status, instance };
  }
  // Fastify's own 4xx errors (bad JSON, body too large, wrong media type) explain themselves.
  return {
    type: problemType(
      fastifyError.code ? fastifyError.code.toLowerCase().replace(/^fst_err_/, '') : 'bad-request',
    ),
    title: fastifyError.message,
    status,
    instance,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem) {
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function problemErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const problem = toProblem(error, request);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  if (typeof problem.retryAfterSeconds === 'number') {
    reply.header('retry-after', String(problem.retryAfterSeconds));
  }
  return sendProblem(reply, problem);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(reply, {
    type: problemType('not-found'),
    title: 'Not found',
    status: 404,
    detail: `No route ${request.method} ${request.url.split('?')[0]}`,
    instance: request.url,
  });
}
