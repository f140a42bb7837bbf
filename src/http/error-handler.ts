// Turns every thrown error into the one error shape. Bad input is a 400 that says which field and
// why; upstream failures keep their status meaning; nothing leaks a stack trace.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ROUTER_PATH_VALUE_LIMIT } from '../path-values.js';
import { UpstreamError } from '../upstream/errors.js';
import { type ErrorBody, RelayError } from '../errors.js';
import { printableAscii } from './printable-text.js';
import { relayErrorFromUpstream } from './upstream-error-mapping.js';
import { relayPlugin } from './relay-app.js';

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

/**
 * Fastify's `frameworkErrors` option: errors its router raises before any hook runs (a path
 * parameter over maxParamLength, a malformed percent-encoding). Without it they leave in Fastify's
 * own shape, echoing the whole URL, without the correlation id.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header('x-correlation-id', request.id);
  const relayError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new RelayError(
          414,
          'UriTooLong',
          `A value in the URL path is longer than the relay accepts (${ROUTER_PATH_VALUE_LIMIT} characters); check the environment id, package name, operation id or tenant in the URL.`,
        )
      : error.code === 'FST_ERR_BAD_URL'
        ? new RelayError(400, 'InvalidRequest', 'The URL path is not valid (a malformed percent-encoding); encode each path value with encodeURIComponent.')
        : toRelayError(error);
  return send(reply, request, relayError);
}

/**
 * Fastify's `clientErrorHandler`: requests Node's HTTP parser refuses before Fastify sees them (a
 * URL or headers over 16 KB, broken HTTP). Answered on the socket in the relay's error shape.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestTooLarge', 'The URL or the headers are larger than the relay accepts (16 KB); shorten the values in the URL.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeout', 'The request did not arrive in time; send it again.']
        : [400, 'InvalidRequest', 'The request is not valid HTTP; check the client or proxy that sent it.'];
  const correlationId = randomUUID();
  const body = JSON.stringify({ error: { code, message, correlationId } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-correlation-id: ${correlationId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply) => {
    const relayError = toRelayError(error);
    if (relayError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: relayError.code, status: relayError.statusCode }, relayError.message);
    return send(reply, request, relayError);
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, request, new RelayError(404, 'NotFound', `There is no ${request.method} ${printableAscii(request.url.split('?')[0], 200)} on this relay; see /docs.`)),
  );
}

/** The one error shape for every answer, the 404 included; other plugins throw RelayError into it. */
export const errorHandlerPlugin = relayPlugin((app) => registerErrorHandler(app), { name: 'relay-error-handler' });
