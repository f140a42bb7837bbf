// Capped exponential backoff with full jitter: the wait before retry n is uniform in
// [0, min(cap, base * 2^(n-1))], so many clients retrying at once spread out instead of
// hammering upstream in lockstep.

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 20_000 };

/** Upper bound of the wait before retry number `retry` (1 = first retry). */
export function backoffCeilingMs(retry: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = policy.baseMs * 2 ** Math.max(0, Math.min(30, retry - 1));
  return Math.min(policy.capMs, exp);
}

export function fullJitterBackoffMs(
  retry: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * backoffCeilingMs(retry, policy));
}

/** How long to wait before the next attempt: Retry-After wins when upstream gave one (it knows
 *  its own load); otherwise full-jitter backoff. */
export function retryDelayMs(
  retry: number,
  retryAfterSeconds: number | undefined,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined) return Math.round(retryAfterSeconds * 1000);
  return fullJitterBackoffMs(retry, policy, random);
}
