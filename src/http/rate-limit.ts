// Per-caller rate limit on /v1 (RATE_LIMIT_PER_MINUTE): keyed by the authenticated caller, so one
// busy flow cannot starve the others and a shared egress IP (Power Automate) does not lump every
// tenant together. It runs after the auth hook (route-level onRequest hooks follow the app's), so
// refused credentials never consume a caller's budget. 429 carries Retry-After and the error shape.
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { type RelayApp, relayPlugin } from './relay-app.js';
import { isProtectedRequest } from './auth.js';
import { RelayError } from '../errors.js';
import { waitSignature } from './wait-signature.js';

export interface RateLimitOptions {
  perMinute: number;
  /** Window length; tests shorten it. */
  windowMs?: number;
}

/**
 * Polls of a signed wait URL are cheap — every poll of one operation shares one upstream poller —
 * and 50 flows waiting on one install at the engine's pace (Retry-After 1 s, growing) send over a
 * thousand polls in its first minute. So they are not charged to the caller: each operation gets
 * its own budget, this many times RATE_LIMIT_PER_MINUTE. Not exempt: a runaway client hammering one
 * URL is still stopped.
 */
export const WAIT_URL_BUDGET_FACTOR = 10;

/** The operation a signed wait-URL poll is for, or undefined for any other request. Credentialed
 *  polls of the signed URL count here too; without a `sig` they are ordinary calls. */
function waitUrlOperation(request: FastifyRequest): string | undefined {
  if (request.routeOptions.config?.acceptsWaitToken !== true || waitSignature(request.url) === undefined) return undefined;
  // The route's path parameters name the operation (environment and operation id on the real route).
  const params = Object.values((request.params ?? {}) as Record<string, unknown>).map((v) => String(v).toLowerCase());
  return `${request.routeOptions.url}:${params.join('/')}`;
}

export async function registerRateLimit(app: RelayApp, opts: RateLimitOptions) {
  await app.register(rateLimit, {
    global: true,
    max: (request) => (waitUrlOperation(request) ? opts.perMinute * WAIT_URL_BUDGET_FACTOR : opts.perMinute),
    timeWindow: opts.windowMs ?? 60_000,
    hook: 'onRequest',
    // Service endpoints (probes, metrics, docs) are never limited.
    allowList: (request) => !isProtectedRequest(request),
    keyGenerator: (request) => {
      // Signed wait URLs: one budget per operation (see WAIT_URL_BUDGET_FACTOR), so polling is not
      // charged to a caller and one busy flow's polling cannot starve every other flow's.
      const operation = waitUrlOperation(request);
      if (operation) return `wait:${operation}`;
      const caller = request.caller;
      if (!caller) return `ip:${request.ip}`;
      return `${caller.kind}:${caller.id}`;
    },
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      if (waitUrlOperation(request)) {
        return new RelayError(
          429,
          'TooManyRequests',
          `This install's wait URL was polled more than ${context.max} times in a minute (${WAIT_URL_BUDGET_FACTOR} × RATE_LIMIT_PER_MINUTE); wait ${seconds} s and poll at the Retry-After the relay answers with.`,
          { retryAfter: seconds },
        );
      }
      return new RelayError(
        429,
        'TooManyRequests',
        `This caller sent more than ${context.max} requests in a minute; wait ${seconds} s and retry (the limit is RATE_LIMIT_PER_MINUTE).`,
        { retryAfter: seconds },
      );
    },
  });
}

/** The limiter's hooks go on each route, so they still run after the auth hook; registering it
 *  before auth gives the failed-authentication budget its store. */
export const rateLimitPlugin = relayPlugin<RateLimitOptions>((app, opts) => registerRateLimit(app, opts), {
  name: 'relay-rate-limit',
});
