// The error statuses each isolation operation can answer, with when each happens: what the route
// schemas' `errors` hold, so both generated documents declare them.
import {
  BODY_ERRORS,
  CALLER_ERRORS,
  INPUT_ERRORS,
  type RouteErrors,
  UPSTREAM_ERRORS,
} from '../connector-definition/public.js';

const COMMON: RouteErrors = { ...INPUT_ERRORS, ...CALLER_ERRORS, ...UPSTREAM_ERRORS };

const ISOLATION_WRITE: RouteErrors = {
  400: {
    when: 'A value is not valid: an unknown tenant domain, a tenant that is neither a GUID, * nor a domain, the relay’s own tenant, a duplicate rule or a missing direction; the message names it.',
  },
  409: {
    when: 'Another writer kept changing the policy (ConcurrentPolicyChange), or a replace would remove rules without Confirm removals (RemovalsNotConfirmed, details.wouldRemove lists them).',
  },
  412: { when: 'The policy is no longer at the given If revision (RevisionMismatch); read it again.' },
  503: {
    when: 'The audit trail cannot be written (AuditUnavailable) or another change of this policy holds the lock too long (PolicyBusy), or upstream is unavailable; nothing was written; retry after Retry-After seconds.',
    retryAfter: true,
  },
  504: {
    when: 'Upstream did not confirm the write in time and the policy does not show it (IsolationOutcomeUnknown): read the policy to see whether it landed; retry after Retry-After seconds.',
    retryAfter: true,
  },
};

export const isolationReadErrors: RouteErrors = { ...CALLER_ERRORS, ...UPSTREAM_ERRORS };

/** UpsertIsolationRule, SetIsolationEnabled and ReplaceIsolationPolicy (JSON bodies). */
export const isolationBodyWriteErrors: RouteErrors = {
  ...CALLER_ERRORS,
  ...UPSTREAM_ERRORS,
  ...BODY_ERRORS,
  ...ISOLATION_WRITE,
};

/** RemoveIsolationRule (query only). */
export const isolationQueryWriteErrors: RouteErrors = { ...CALLER_ERRORS, ...UPSTREAM_ERRORS, ...ISOLATION_WRITE };

export const isolationChangesErrors: RouteErrors = {
  ...COMMON,
  400: {
    when: 'A filter is not valid (a date that is not ISO 8601, an unknown tenant domain) or the continuation token is not one this relay issued.',
  },
};

export const policyTriggerErrors: RouteErrors = {
  ...COMMON,
  400: { when: 'The poll interval is out of bounds or the cursor is not one this relay issued (InvalidTriggerCursor).' },
  409: { when: 'The policy the cursor names is no longer in the state store (TriggerBaselineLost): turn the flow off and on to start again.' },
};

export const isolationCheckErrors: RouteErrors = {
  ...CALLER_ERRORS,
  ...UPSTREAM_ERRORS,
  ...BODY_ERRORS,
  400: {
    when: 'The desired state is empty, mixes an exact set with include/exclude, names a tenant twice, or has a tenant that is not a GUID, * or a known domain; the message names it.',
  },
};
