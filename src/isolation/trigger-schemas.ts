// The schemas of the isolation polling trigger: what a maker sets and what each fired item holds.
import { z } from 'zod';
import { field } from '../connector-definition/public.js';
import { diff } from './schemas.js';

export const MIN_POLL_SECONDS = 30;
export const MAX_POLL_SECONDS = 86_400;
export const DEFAULT_POLL_SECONDS = 180;

export const policyTriggerQuery = z.object({
  pollSeconds: z.coerce
    .number({ error: `must be a whole number of seconds from ${MIN_POLL_SECONDS} to ${MAX_POLL_SECONDS}` })
    .int({ error: `must be a whole number of seconds from ${MIN_POLL_SECONDS} to ${MAX_POLL_SECONDS}` })
    .min(MIN_POLL_SECONDS, { error: `must be at least ${MIN_POLL_SECONDS} seconds: the policy is one upstream read per poll, but reading it more often tells nothing sooner` })
    .max(MAX_POLL_SECONDS, { error: `must be at most ${MAX_POLL_SECONDS} seconds (one day)` })
    .default(DEFAULT_POLL_SECONDS)
    .meta(field('Check every (seconds)', `How often to check the policy, in seconds (${MIN_POLL_SECONDS}-${MAX_POLL_SECONDS}).`, { 'x-ms-visibility': 'advanced' })),
  cursor: z.string().max(200).optional().meta(field('Cursor', 'Where the previous check ended; set by the relay in Location.', { 'x-ms-visibility': 'internal' })),
});

export const policyChangeItem = z.object({
  diff: diff.meta(field('Difference', 'Rules added, removed or changed, and enabled before and after.')),
  revisionBefore: z.string().meta(field('Revision before', 'The policy revision before the change.')),
  revisionAfter: z.string().meta(field('Revision after', 'The policy revision after the change.')),
  seenAt: z.string().meta(field('Seen at', 'When the relay saw the change (ISO 8601).')),
  madeBy: z.enum(['relay', 'outside the relay']).meta(field('Made by', '"relay" for a change made through this relay, "outside the relay" otherwise (admin center, PowerShell, another tool).')),
  actor: z.string().nullable().meta(field('Actor', 'Who made a relay change (from its audit record); null outside the relay.')),
  reason: z.string().nullable().meta(field('Reason', 'The reason given for a relay change; null otherwise.')),
  changeId: z.string().nullable().meta(field('Change id', "The relay change's audit record id; null outside the relay.")),
  changedAt: z.string().nullable().meta(field('Changed at', 'When a relay change completed (ISO 8601); null outside the relay.')),
}).meta({ id: 'IsolationPolicyChange' });

export const policyTriggerResult = z.object({
  value: z.array(policyChangeItem).meta(field('Changes', 'The changes seen since the previous check, oldest first.')),
});
