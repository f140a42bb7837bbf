// What a failed isolation PUT can mean for the policy upstream holds. The PUT is a full replace
// with no ETag, so a blind resend could overwrite another writer; the service instead reads the
// policy and decides from this and from what it sees.
import { UpstreamError } from '../upstream/errors.js';

export type PutFailureKind =
  /** Upstream refused it or never got it (4xx, 429 throttling, no token): nothing of ours landed. */
  | 'notApplied'
  /** Upstream answered with an error (5xx, 408): it is done with the request, so a read of the
   *  policy tells whether it landed, and if not, the change can be redone on that read. */
  | 'answeredWithError'
  /** No final answer (timeout, reset, a 202 not finished by the deadline): the request may still be
   *  running upstream and land later, so a read can show that it landed but never that it did not. */
  | 'mayStillApply';

export function classifyPutFailure(err: unknown): PutFailureKind {
  if (!(err instanceof UpstreamError)) return 'mayStillApply';
  if (err.kind === 'token') return 'notApplied';
  const status = err.status;
  // A 429 is refused unprocessed, whether it came straight back or after the retries ran out.
  if (status === 429) return 'notApplied';
  if (err.kind !== 'http' || status === undefined || status === 202) return 'mayStillApply';
  if (status === 408 || status >= 500) return 'answeredWithError';
  return 'notApplied';
}

/** Seconds upstream asked us to wait, when it said. */
export function retryAfterOf(err: unknown): number | undefined {
  return err instanceof UpstreamError ? err.details.retryAfterSeconds : undefined;
}
