// What every upstream call made for a request carries: the correlation id, and the caller's own
// token for on-behalf-of calls. Deadlines are the caller's business (an install wait and an
// isolation write bound their upstream calls differently).
import type { FastifyRequest } from 'fastify';
import type { CallContext } from '../upstream/types.js';

export function callContext(request: Pick<FastifyRequest, 'id' | 'caller'>): CallContext {
  return {
    correlationId: String(request.id),
    ...(request.caller?.bearerToken ? { userAssertion: request.caller.bearerToken } : {}),
  };
}
