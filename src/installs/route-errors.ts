// The error statuses each install and package operation can answer, with when each happens: what the route schemas'
// `errors` hold, so both generated documents declare them.
import { CALLER_ERRORS, INPUT_ERRORS, type RouteErrors, UPSTREAM_ERRORS } from '../connector-definition/public.js';

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

export const installTriggerErrors: RouteErrors = {
  ...packageReadErrors,
  409: {
    when: 'The environment has no Dataverse, or the states the cursor names are no longer in the state store (TriggerBaselineLost): turn the flow off and on to start again.',
  },
};
