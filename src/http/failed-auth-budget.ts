// A budget for failed authentication per client address (AUTH_FAILURES_PER_MINUTE), kept by
// @fastify/rate-limit. Only refused credentials are charged, and past the budget only refused
// credentials get 429: a request whose key or token verifies is served whatever its address has
// used. Power Automate's connectors share outbound addresses between tenants, so a budget that
// blocked the whole address would let anyone on that egress lock out everyone else's flows.
import type { FastifyRequest } from 'fastify';
import type { RelayApp } from './relay-app.js';
import { clientAddress } from './client-address.js';
import { RelayError } from '../errors.js';

export interface FailedAuthBudget {
  /** Charges one failed authentication to the request's address; the 429 to answer past the budget. */
  charge(request: FastifyRequest): Promise<RelayError | undefined>;
}

export interface FailedAuthBudgetOptions {
  perMinute: number;
  trustProxy: boolean;
  /** Window length; tests may shorten it. */
  windowMs?: number;
}

/** Needs @fastify/rate-limit registered on `app` (registerRateLimit) for its store. */
export function createFailedAuthBudget(app: RelayApp, opts: FailedAuthBudgetOptions): FailedAuthBudget {
  const check = app.createRateLimit({
    max: opts.perMinute,
    timeWindow: opts.windowMs ?? 60_000,
    keyGenerator: (request) => `authfail:${clientAddress(request, opts.trustProxy)}`,
    allowList: () => false,
  });
  return {
    async charge(request) {
      const limit = await check(request);
      if (limit.isAllowed || !limit.isExceeded) return undefined;
      const seconds = Math.max(1, limit.ttlInSeconds);
      return new RelayError(
        429,
        'TooManyFailedAuthentications',
        `More than ${limit.max} requests from this address failed authentication in a minute (AUTH_FAILURES_PER_MINUTE); wait ${seconds} s, and check the credentials: this one was refused too.`,
        { retryAfter: seconds },
      );
    },
  };
}
