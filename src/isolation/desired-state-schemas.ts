// The schemas of CheckIsolationPolicy and EnsureIsolationPolicy: a desired state (include, exclude,
// exact, enabled) and the drift report.
import { z } from 'zod';
import { field } from '../connector-definition/public.js';
import { tenantInput, writableDirection, writeFields } from './schemas.js';

const desiredRules = (label: string, description: string) =>
  z
    .array(z.object({ tenant: tenantInput(''), direction: writableDirection }))
    .max(1000)
    .optional()
    .meta(field(label, description, { 'x-ms-visibility': 'important' }));

export const desiredStateFields = {
  include: desiredRules('Include', 'Rules that must be in the policy with this direction; other rules are left alone.'),
  exclude: z
    .array(tenantInput(' that must have no rule'))
    .max(1000)
    .optional()
    .meta(field('Exclude', 'Tenants (id, * or domain) that must have no rule; all of them are removed.', { 'x-ms-visibility': 'important' })),
  exact: desiredRules('Exact rules', 'The complete rule set: rules not listed here are drift (extra). Not together with include or exclude.'),
  enabled: z.boolean().optional().meta(field('Enabled', 'Whether isolation must be enforced; leave out to not check it.', { 'x-ms-visibility': 'important' })),
};

export const checkBody = z.object(desiredStateFields);

export const ensureBody = z.object({
  ...desiredStateFields,
  confirmRemovals: z.boolean().optional().meta(field('Confirm removals', 'Required (true) when an exact rule set removes rules the policy has now.', { 'x-ms-visibility': 'important' })),
  ...writeFields,
});

export const driftItem = z.object({
  kind: z.enum(['missing', 'extra', 'wrongDirection', 'enabledMismatch']).meta(field('Kind', 'missing: a wanted rule is absent; extra: a rule that should not be there; wrongDirection: the rule allows another direction; enabledMismatch: enforcement differs.')),
  tenantId: z.string().nullable().meta(field('Tenant ID', 'The rule tenant; null for enabledMismatch.')),
  expected: z.string().meta(field('Expected', 'What the desired state says: a direction, absent, enabled or disabled.')),
  actual: z.string().meta(field('Actual', 'What the policy has now.')),
});

export const checkAnswer = z.object({
  compliant: z.boolean().meta(field('Compliant', 'True when the policy already matches the desired state.')),
  drift: z.array(driftItem).meta(field('Drift', 'How the policy differs from the desired state, item by item.')),
  revision: z.string().meta(field('Revision', 'The policy revision that was checked.')),
  enabled: z.boolean().meta(field('Enabled', 'Whether isolation is enforced now.')),
});
