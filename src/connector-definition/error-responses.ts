// Which error statuses an operation can answer, and when. Routes list them in their schema
// (`errors`), so both documents generated from the route schemas declare every status: the
// connector definition as descriptions and headers (the platform allows no schema on them), the
// full contract with the ErrorResponse body as well. The error body itself is error-schema.ts.
import { z } from 'zod';

export interface ErrorCase {
  /** When this status happens, as a maker reads it in the designer. */
  when: string;
  /** The answer carries Retry-After (seconds). */
  retryAfter?: boolean;
  /** The answer carries WWW-Authenticate. */
  wwwAuthenticate?: boolean;
}

export type RouteErrors = Record<number, ErrorCase>;

export const ERROR_BODY_NOTE = 'The body is the error shape: error.code, error.message, error.correlationId.';

/** Every /v1 operation: credentials, permissions, rate limit, the relay itself. */
export const CALLER_ERRORS: RouteErrors = {
  401: {
    when: 'Credentials are missing, expired or not valid; WWW-Authenticate and the message say why.',
    wwwAuthenticate: true,
  },
  403: {
    when: 'The caller lacks the permission this action needs (the message names it and where to grant it), or Power Platform refused the relay.',
  },
  429: {
    when: 'Too many requests from this caller, or upstream kept throttling; retry after Retry-After seconds.',
    retryAfter: true,
  },
  500: { when: 'The relay failed unexpectedly; the correlation id finds the failure in its logs.' },
  503: {
    when: "Upstream or the relay's sign-in keys are unavailable; retry after Retry-After seconds.",
    retryAfter: true,
  },
};

/** Operations that call upstream. */
export const UPSTREAM_ERRORS: RouteErrors = {
  422: { when: 'Upstream rejected the request; the message quotes what it said.' },
  502: { when: "Upstream refused the relay's own token, or no token could be had for it." },
  504: {
    when: 'Upstream did not answer in time (the relay retried until its deadline); retry after Retry-After seconds.',
    retryAfter: true,
  },
};

/** Operations with path or query values. */
export const INPUT_ERRORS: RouteErrors = {
  400: { when: 'A value in the request is not valid; the message names the field and what it accepts.' },
};

/** Operations with a JSON body. */
export const BODY_ERRORS: RouteErrors = {
  ...INPUT_ERRORS,
  413: { when: 'The request body is larger than the relay accepts (BODY_LIMIT_BYTES).' },
  415: { when: 'The body was not sent as JSON (Content-Type: application/json).' },
};

/** Retry-After as a response header, in both documents. */
export const RETRY_AFTER_DESCRIPTION = 'Seconds to wait before trying again (or before polling the Location URL).';
export const WWW_AUTHENTICATE_DESCRIPTION = 'The sign-in the relay expects, and why the credentials were refused.';
export const CORRELATION_ID_DESCRIPTION =
  'Identifies this request in the relay logs, the audit trail and upstream (x-ms-client-request-id).';

/** When each success status happens (a route's `successes`), for the same descriptions in both documents. */
export function routeSuccessesOf(schema: Record<string, unknown>): Record<string, string> {
  const successes = schema.successes;
  return successes && typeof successes === 'object' ? (successes as Record<string, string>) : {};
}

export function routeErrorsOf(schema: Record<string, unknown>): RouteErrors {
  const errors = schema.errors;
  return errors && typeof errors === 'object' ? (errors as RouteErrors) : {};
}

/** The one error body every non-2xx answer carries. */
export const errorResponseSchema = z
  .object({
    error: z
      .object({
        code: z.string().meta({ description: 'A stable, named error code such as EnvironmentBusy.' }),
        message: z.string().meta({ description: 'What went wrong and what to do about it.' }),
        target: z.string().optional().meta({ description: 'The field or part of the request the error is about.' }),
        details: z.unknown().optional().meta({ description: 'More about the error (for example the failed install, or the rules a replace would remove).' }),
        upstreamStatus: z.number().int().optional().meta({ description: 'The status upstream answered, when the error came from upstream.' }),
        correlationId: z.string().meta({ description: 'The x-correlation-id of this request.' }),
      })
      .meta({ description: 'The error.' }),
  })
  .meta({ id: 'ErrorResponse', description: 'The body of every error answer.' });
