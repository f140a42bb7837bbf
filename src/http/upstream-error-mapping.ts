// What an upstream failure means to the relay's caller. Throttling and upstream outages keep
// their retryable statuses (429/502/503/504) so the flow engine's retry policy works; an
// upstream 4xx becomes a 4xx that says what upstream said.
import { SURFACE_NAMES, type UpstreamError } from '../upstream/errors.js';
import { RelayError } from '../errors.js';


export function relayErrorFromUpstream(err: UpstreamError): RelayError {
  const d = err.details;
  const where = SURFACE_NAMES[err.surface];
  const said = d.upstreamMessage ? ` It said: "${d.upstreamMessage}"` : '';
  const corr = d.correlationId ? ` (upstream correlation id ${d.correlationId})` : '';
  const extra = { upstreamStatus: d.status, details: withUpstreamCorrelation(d.extra, d.correlationId), retryAfter: d.retryAfterSeconds };
  switch (err.kind) {
    case 'token':
      return new RelayError(502, 'UpstreamTokenUnavailable', `${err.message}${corr}`, extra);
    case 'deadline':
      // Still throttled when the retries ran out: pass the 429 and upstream's Retry-After on, so
      // the flow engine's own retry policy waits as upstream asked instead of treating it as an outage.
      if (d.status === 429)
        return new RelayError(429, 'UpstreamThrottled', `${where} kept throttling requests until the relay's deadline; retry after ${d.retryAfterSeconds ?? 30} seconds.${said}`, {
          ...extra,
          retryAfter: d.retryAfterSeconds ?? 30,
        });
      return new RelayError(504, 'UpstreamUnavailable', `${err.message}${corr}`, { ...extra, retryAfter: d.retryAfterSeconds ?? 30 });
    case 'network':
    case 'timeout':
      return new RelayError(504, 'UpstreamUnavailable', `${err.message}${corr}`, { ...extra, retryAfter: d.retryAfterSeconds ?? 30 });
    default:
      break;
  }
  const status = d.status ?? 502;
  if (status === 429)
    return new RelayError(429, 'UpstreamThrottled', `${where} is throttling requests; retry after ${d.retryAfterSeconds ?? 30} seconds.${said}`, {
      ...extra,
      retryAfter: d.retryAfterSeconds ?? 30,
    });
  if (status === 401)
    return new RelayError(502, 'UpstreamUnauthorized', `${where} refused the relay's token.${said}${corr}`, extra);
  if (status === 403) return new RelayError(403, d.code === 'NotRegisteredAsManagementApp' ? d.code : 'UpstreamForbidden', `${err.message}${corr}`, extra);
  if (status === 404) return new RelayError(404, 'UpstreamNotFound', `${err.message}${corr}`, extra);
  if (status === 409) return new RelayError(409, 'UpstreamConflict', `${err.message}${corr}`, extra);
  if (status >= 400 && status < 500) return new RelayError(status === 400 ? 400 : 422, d.code ?? 'UpstreamRejected', `${err.message}${corr}`, extra);
  return new RelayError(status === 504 ? 504 : 503, 'UpstreamUnavailable', `${where} is failing (HTTP ${status}); retry later.${said}${corr}`, {
    ...extra,
    retryAfter: d.retryAfterSeconds ?? 30,
  });
}

/**
 * Upstream's x-ms-correlation-id in `details.upstreamCorrelationId`, beside whatever details
 * upstream sent: it is what Microsoft support asks for. A list of upstream details (BAP
 * `details: [...]`) keeps its shape; the id is then in the message only.
 */
export function withUpstreamCorrelation(extra: unknown, correlationId: string | undefined): unknown {
  if (!correlationId) return extra;
  if (extra === undefined || extra === null) return { upstreamCorrelationId: correlationId };
  if (typeof extra === 'object' && !Array.isArray(extra)) return { ...(extra as Record<string, unknown>), upstreamCorrelationId: correlationId };
  return extra;
}
