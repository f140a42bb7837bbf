// Which failures to start an environment's install mean "not now" rather than "failed": upstream
// busy with another package operation, or throttling. The rollout tries that environment again
// later instead of failing it.
import { RelayError } from '../errors.js';
import { UpstreamError } from '../upstream/errors.js';

const BUSY_CODES = new Set(['EnvironmentBusy', 'PackageBusy']);

/** Seconds to wait before trying again, or undefined when the error is a real failure. */
export function deferralSeconds(err: unknown): number | undefined {
  if (err instanceof RelayError) {
    if ((err.statusCode === 409 && BUSY_CODES.has(err.code)) || err.statusCode === 429 || err.extra.upstreamStatus === 429) {
      return err.extra.retryAfter ?? 30;
    }
    return undefined;
  }
  if (err instanceof UpstreamError && err.status === 429) return err.details.retryAfterSeconds ?? 30;
  return undefined;
}

/** Code and message of a failure, for the environment's row. */
export function failureOf(err: unknown): { code: string; message: string } {
  if (err instanceof RelayError) return { code: err.code, message: err.message };
  if (err instanceof UpstreamError) return { code: err.details.code ?? 'UpstreamError', message: err.details.upstreamMessage ?? err.message };
  return { code: 'InternalError', message: (err as Error)?.message ?? String(err) };
}
