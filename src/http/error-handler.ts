// Turns every thrown error into the one error shape. Bad input is a 400 that says which field and
// why; upstream failures keep their status meaning; nothing leaks a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UpstreamError } from '../upstream/errors.js';
import { type ErrorBody, RelayError } from './errors.js';
import { relayErrorFromUpstream } from './upstream-error-mapping.js';

function send(reply: FastifyReply, request: FastifyRequest, err: RelayError) {
  const body: ErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.extra.target !== undefined && { target: err.extra.target }),
      ...(err.extra.details !== undefined && { details: err.extra.details }),
      ...(err.extra.upstreamStatus !== undefined && { upstreamStatus: err.extra.upstreamStatus }),
      correlationId: String(request.id),
    },
  };
  if (err.extra.retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(err.extra.retryAfter)));
  for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
  return reply.status(err.statusCode).type('application/json; charset=utf-8').send(body);
}

export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof UpstreamError) return relayErrorFromUpstream(error);
  const fe = error as FastifyError & { validation?: unknown };
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const issues = fe.validation.map((v) => {
      const where = v.instancePath.replace(/^\//, '').replaceAll('/', '.') || fe.validationContext || 'request';
      return { target: `${fe.validationContext ?? 'request'}${v.instancePath ? `.${where}` : ''}`, message: v.message ?? 'is invalid' };
    });
    const first = issues[0];
    return new RelayError(
      400,
      'InvalidRequest',
      first ? `The request is not valid: ${first.target} ${first.message}.` : 'The request is not valid.',
      { target: first?.target, details: issues },
    );
  }
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'PayloadTooLarge'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'UnsupportedMediaType'
          : fe.statusCode === 429
            ? 'TooManyRequests'
            : 'InvalidRequest';
    const message =
      code === 'PayloadTooLarge'
        ? 'The request body is larger than this relay accepts (BODY_LIMIT_BYTES).'
        : code === 'UnsupportedMediaType'
          ? 'Send the request body as JSON with Content-Type: application/json.'
          : fe.statusCode === 400 && /JSON/i.test(fe.message)
            ? `The request body is not valid JSON: ${fe.message}.`
            : fe.message;
    return new RelayError(fe.statusCode, code, message);
  }
  return new RelayError(500, 'InternalError', 'The relay hit an unexpected error; the correlation id identifies it in the logs.');
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => {
    const relayError = toRelayError(error);
    if (relayError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: relayError.code, status: relayError.statusCode }, relayError.message);
    return send(reply, request, relayError);
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, request, new RelayError(404, 'NotFound', `There is no ${request.method} ${request.url.split('?')[0]} on this relay; see /docs.`)),
  );
}
