// The error statuses each rollout operation can answer, and when.
import { BODY_ERRORS, CALLER_ERRORS, INPUT_ERRORS, type RouteErrors, UPSTREAM_ERRORS } from '../connector-definition/public.js';

const COMMON: RouteErrors = { ...INPUT_ERRORS, ...CALLER_ERRORS };
const NOT_FOUND: RouteErrors = { 404: { when: 'There is no rollout with this id (RolloutNotFound).' } };
const ENDED_BADLY: RouteErrors = {
  422: {
    when: 'The rollout ended Failed, PartiallySucceeded or Canceled (RolloutFailed, RolloutPartiallySucceeded, RolloutCanceled); the message gives the counts and the first failures with upstream\'s message and operation id, the details hold the whole result. With Fail On Error false these answer 200 instead.',
  },
};

export const startRolloutErrors: RouteErrors = {
  ...COMMON,
  ...BODY_ERRORS,
  ...UPSTREAM_ERRORS,
  400: { when: 'A value is not valid, neither a package nor allPendingUpdates was given, neither environment ids nor a filter, or no environment matched (NoEnvironmentsMatched).' },
  ...ENDED_BADLY,
};
export const getRolloutErrors: RouteErrors = { ...COMMON, ...NOT_FOUND };
export const waitRolloutErrors: RouteErrors = { ...COMMON, ...NOT_FOUND, ...ENDED_BADLY };
export const listRolloutErrors: RouteErrors = { ...COMMON };
export const cancelRolloutErrors: RouteErrors = { ...COMMON, ...BODY_ERRORS, ...NOT_FOUND };
