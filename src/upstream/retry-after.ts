// Retry-After as upstream sends it: integer seconds, an HTTP-date, or (seen in Go clients) a
// duration string such as "10s" or "1m30s". Anything else means "upstream did not say".

const GO_DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

/** Seconds to wait (>= 0, may be fractional for "500ms"), or undefined when the value is absent or unreadable. */
export function parseRetryAfterSeconds(value: string | string[] | undefined | null, nowMs: number): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const go = GO_DURATION.exec(raw);
  if (go && raw !== '' && go.slice(1).some((g) => g !== undefined)) {
    const [h, m, s, ms] = go.slice(1).map((g) => (g === undefined ? 0 : Number(g))) as [number, number, number, number];
    return h * 3600 + m * 60 + s + ms / 1000;
  }
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands). Require a weekday or
  // month name so stray numbers are not read as dates.
  if (/[a-z]{3}/i.test(raw)) {
    const at = Date.parse(raw);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - nowMs) / 1000));
  }
  return undefined;
}

/** The terraform-compatible poll interval for BAP 202 responses: integer seconds clamped to
 *  [2, 60]; missing, unreadable or "0" means 5 s. */
export function pollIntervalSeconds(value: string | string[] | undefined | null): number {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw || !/^\d+$/.test(raw)) return 5;
  const n = Number(raw);
  if (n === 0) return 5;
  return Math.min(60, Math.max(2, n));
}
