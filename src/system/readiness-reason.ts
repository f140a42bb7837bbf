// The short reason /readyz gives when the relay is not ready. Anyone can call /readyz, so the
// answer names only the kind of problem; the client id, the tenant id and upstream's error text go
// to the log, where the operator reads them.
import { UpstreamError } from '../upstream/errors.js';

export type NotReadyReason =
  | 'upstream_token_unavailable'
  | 'upstream_unreachable'
  | 'upstream_refused'
  | 'upstream_error'
  | 'state_store_unavailable'
  | 'check_failed';

export function notReadyReason(err: unknown): NotReadyReason {
  if (!(err instanceof UpstreamError)) return 'check_failed';
  switch (err.kind) {
    case 'token':
      return 'upstream_token_unavailable';
    case 'network':
    case 'timeout':
    case 'deadline':
      return 'upstream_unreachable';
    default:
      return err.status === 401 || err.status === 403 ? 'upstream_refused' : 'upstream_error';
  }
}
