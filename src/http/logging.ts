// pino options: structured logs that never carry credentials. Redaction covers headers, keys,
// tokens and secrets wherever they appear in a logged object.
import type { LoggerOptions } from 'pino';

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
