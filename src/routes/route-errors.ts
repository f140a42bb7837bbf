// The error statuses each operation can answer, with when each happens: what the route schemas'
// `errors` hold, so both generated documents declare them.
import { BODY_ERRORS, CALLER_ERRORS, INPUT_ERRORS, type RouteErrors, UPSTREAM_ERRORS } from '../http/error-responses.js';

const COMMON: RouteErrors = { ...INPUT_ERRORS, ...CALLER_ERRORS, ...UPSTREAM_ERRORS };

const ENVIRONMENT_CHECKS: RouteErrors = {
  404: {
    when: 'The environment does not exist, or it does not offer this package (the message suggests the closest unique names).',
  },
  409: { when: 'The environment has no Dataverse database; the message says how to add one.' },
};

export const packageReadErrors: RouteErrors = { ...COMMON, ...ENVIRONMENT_CHECKS };

const INSTALL_ENDED_BADLY: RouteErrors = {
  422: {
    when: 'The install failed (InstallFailed), was canceled (InstallCanceled) or timed out (InstallTimedOut); the message names the package, what upstream said and the operation id. With Fail On Error false these answer 200 instead. Also: upstream rejected the request.',
  },
};

export const installErrors: RouteErrors = {
  ...COMMON,
  ...ENVIRONMENT_CHECKS,
  409: {
    when: 'The environment has no Dataverse database (DataverseRequired), or is busy with another package operation (EnvironmentBusy) or uninstalling this package (PackageBusy); retry after Retry-After seconds.',
    retryAfter: true,
  },
  ...INSTALL_ENDED_BADLY,
  503: {
    when: 'Upstream failed while starting the install and shows none under way (InstallNotStarted), or upstream or the sign-in keys are unavailable; retry after Retry-After seconds.',
    retryAfter: true,
  },
};

export const installStatusErrors: RouteErrors = {
  ...COMMON,
  401: {
    when: "Credentials are missing or not valid, or (on-behalf-of mode) no user token is left to follow the install with; the message says why.",
    wwwAuthenticate: true,
  },
  404: { when: 'Upstream knows no such operation in this environment (OperationNotFound), or the environment does not exist.' },
  409: { when: 'The environment has no Dataverse database.' },
};

export const waitErrors: RouteErrors = {
  ...installStatusErrors,
  401: {
    when: "The wait URL's signature is missing, expired or does not match the URL (InvalidWaitToken), or credentials are not valid.",
    wwwAuthenticate: true,
  },
  ...INSTALL_ENDED_BADLY,
};

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
