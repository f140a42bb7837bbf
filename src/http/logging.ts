// pino options: structured logs that never carry credentials. Redaction covers headers, keys,
// tokens and secrets wherever they appear in a logged object.
import type { Logger, LoggerOptions } from 'pino';

// Who called is kept on the request's logger and added to each line as it is written, rather than
// bound through a second child logger per request: a child (with redaction) costs every request,
// a line is only paid for when written, and most levels write few.
const CALLER = Symbol('relay.caller');

export interface LoggedCaller {
  kind: string;
  id?: string;
  name?: string;
  tenantId?: string;
}

/** Every later line of this logger (the request's) names the caller. */
export function logCallerOn(logger: object, caller: LoggedCaller): void {
  (logger as { [CALLER]?: LoggedCaller })[CALLER] = caller;
}

function callerMixin(_line: object, _level: number, logger: Logger): object {
  const caller = (logger as unknown as { [CALLER]?: LoggedCaller })[CALLER];
  return caller ? { caller } : {};
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.password',
  '*.assertion',
  '*.client_assertion',
  // Inbound auth adds: the caller's token kept for on-behalf-of, OBO assertions,
  // every token field Entra answers with, and headers logged from upstream requests or errors.
  '*.bearerToken',
  '*.userAssertion',
  '*.refreshToken',
  '*.refresh_token',
  '*.id_token',
  '*.idToken',
  '*.key',
  '*.privateKey',
  '*.sig',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers.cookie',
  '*.*.authorization',
  '*.*.token',
  '*.*.bearerToken',
  '*.*.userAssertion',
  '*.*.secret',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    // The mixin's fields join the line before redaction, so they are redacted like any other.
    mixin: callerMixin,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // The wait URL token rides in the query string; never log query strings.
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        id: req.id,
      }),
    },
  };
}
