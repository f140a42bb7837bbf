// The database did not answer. Raised before anything reaches upstream, so the caller may simply
// retry; the HTTP layer answers 503 with Retry-After.
import { RelayError } from '../../errors.js';

export class StateStoreUnavailableError extends RelayError {
  constructor(cause: Error) {
    super(
      503,
      'StateStoreUnavailable',
      `The relay's database did not answer (${cause.message}); nothing was changed. Retry shortly.`,
      { retryAfter: 5 },
    );
  }
}

/** Errors from the connection (refused, reset, terminated) become 503s; anything else is a bug to see. */
export function unavailableIfConnectionFailed(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  const connection =
    (typeof e.code === 'string' &&
      (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(e.code) ||
        /^(08|57P)/.test(e.code))) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '');
  return connection ? new StateStoreUnavailableError(err as Error) : err;
}
