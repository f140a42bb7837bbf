// Per-caller rate limit on /v1 (RATE_LIMIT_PER_MINUTE): keyed by the authenticated caller, so one
// busy flow cannot starve the others and a shared egress IP (Power Automate) does not lump every
// tenant together. It runs after the auth hook (route-level onRequest hooks follow the app's), so
// refused credentials never consume a caller's budget. 429 carries Retry-After and the error shape.
import rateLimit from '@fastify/rate-limit';
import type { RelayApp } from '../app.js';
import { isProtectedRequest } from './auth.js';
import { RelayError } from './errors.js';

export interface RateLimitOptions {
  perMinute: number;
  /** Window length; tests shorten it. */
  windowMs?: number;
}


export async function registerRateLimit(app: RelayApp, opts: RateLimitOptions) {
  await app.register(rateLimit, {
    global: true,
    max: opts.perMinute,
    timeWindow: opts.windowMs ?? 60_000,
    hook: 'onRequest',
    // Service endpoints (probes, metrics, docs) are never limited.
    allowList: (request) => !isProtectedRequest(request),
    keyGenerator: (request) => {
      const caller = request.caller;
      if (!caller) return `ip:${request.ip}`;
      // Signed wait URLs carry no identity: give each operation's URL its own budget, so one busy
      // flow's polling cannot starve every other flow's.
      if (caller.kind === 'waitToken') return `wait:${request.routeOptions.url}:${JSON.stringify(request.params)}`;
      return `${caller.kind}:${caller.id}`;
    },
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new RelayError(
        429,
        'TooManyRequests',
        `This caller sent more than ${context.max} requests in a minute; wait ${seconds} s and retry (the limit is RATE_LIMIT_PER_MINUTE).`,
        { retryAfter: seconds },
      );
    },
  });
}
