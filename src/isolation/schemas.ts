// The zod schemas of the isolation operations: the single source of the connector definition,
// so every field carries its label and description.
import { z } from 'zod';
import { PATH_VALUE_MAX_LENGTH } from '../path-values.js';

export const TAGS = ['Tenant isolation'];

export const DIRECTION_LABELS = [
  { value: 'Inbound', displayName: 'Inbound: their users may connect into this tenant' },
  { value: 'Outbound', displayName: 'Outbound: our users may connect out to that tenant' },
  { value: 'Both', displayName: 'Both directions' },
];

export const writableDirection = z
  .enum(['Inbound', 'Outbound', 'Both'], {
    error:
      'must be Inbound, Outbound or Both (a rule with no direction grants nothing: remove the rule instead)',
  })
  .meta({
    description: 'Which way connections with the other tenant are allowed.',
    'x-ms-summary': 'Direction',
    'x-ms-visibility': 'important',
    'x-ms-enum-values': DIRECTION_LABELS,
  });

export const storedDirection = z.enum(['Inbound', 'Outbound', 'Both', 'None']).meta({
  description:
    'Which way connections are allowed; None for a stored rule with neither flag (it grants nothing).',
  'x-ms-summary': 'Direction',
  'x-ms-enum-values': [...DIRECTION_LABELS, { value: 'None', displayName: 'None (grants nothing)' }],
});

export const tenantInput = (where: string) =>
  z
    .string()
    .trim()
    .min(1, { error: 'is required: a tenant id (GUID), * or a domain such as contoso.onmicrosoft.com' })
    .max(PATH_VALUE_MAX_LENGTH)
    .meta({
      description: `The other tenant${where}: its tenant id (GUID), * for all tenants, or a verified domain such as contoso.onmicrosoft.com (resolved to the tenant id).`,
      'x-ms-summary': 'Tenant',
      'x-ms-visibility': 'important',
    });

export const rule = z.object({
  tenantId: z.string().meta({
    description: 'The other tenant: a lower-case tenant id (GUID) or * for all tenants.',
    'x-ms-summary': 'Tenant ID',
  }),
  tenantDisplayName: z
    .string()
    .nullable()
    .meta({ description: 'The tenant name upstream stored, if any.', 'x-ms-summary': 'Tenant name' }),
  direction: storedDirection,
  inbound: z.boolean().meta({
    description: "The other tenant's users may connect into this tenant.",
    'x-ms-summary': 'Inbound',
  }),
  outbound: z.boolean().meta({
    description: "This tenant's users may connect out to the other tenant.",
    'x-ms-summary': 'Outbound',
  }),
});

export const policy = z.object({
  tenantId: z.string().meta({
    description: 'The tenant this policy belongs to (the relay’s own tenant).',
    'x-ms-summary': 'Policy tenant ID',
  }),
  enabled: z.boolean().meta({
    description: 'Isolation is enforced: cross-tenant connections are blocked unless a rule allows them.',
    'x-ms-summary': 'Enabled',
  }),
  configured: z.boolean().meta({
    description: 'False when the tenant has never stored an isolation policy.',
    'x-ms-summary': 'Configured',
    'x-ms-visibility': 'advanced',
  }),
  rules: z.array(rule).meta({ description: 'The allowed tenants and directions.', 'x-ms-summary': 'Rules' }),
  revision: z.string().meta({
    description:
      'Identifies this version of the policy; pass it as ifRevision to change it only if nobody else did.',
    'x-ms-summary': 'Revision',
  }),
});

export const diff = z.object({
  added: z.array(rule).meta({ description: 'Rules that are new.', 'x-ms-summary': 'Added rules' }),
  removed: z.array(rule).meta({ description: 'Rules that are gone.', 'x-ms-summary': 'Removed rules' }),
  changed: z
    .array(
      z.object({
        tenantId: z
          .string()
          .meta({ description: 'The tenant whose rule changed direction.', 'x-ms-summary': 'Tenant ID' }),
        directionBefore: storedDirection,
        directionAfter: storedDirection,
      }),
    )
    .meta({ description: 'Rules whose direction changed.', 'x-ms-summary': 'Changed rules' }),
  enabledBefore: z
    .boolean()
    .meta({ description: 'Whether isolation was enforced before.', 'x-ms-summary': 'Enabled before' }),
  enabledAfter: z
    .boolean()
    .meta({ description: 'Whether isolation is enforced after.', 'x-ms-summary': 'Enabled after' }),
});

export const writeAnswer = z.object({
  applied: z.boolean().meta({
    description: 'The change was written upstream (false for dry runs and no-ops).',
    'x-ms-summary': 'Applied',
  }),
  dryRun: z
    .boolean()
    .meta({ description: 'This was a dry run: nothing was written.', 'x-ms-summary': 'Dry run' }),
  changed: z.boolean().meta({
    description: 'The change alters the policy (false: it already said this, so nothing was written).',
    'x-ms-summary': 'Changed',
  }),
  diff: diff.meta({ description: 'What the change adds, removes or alters.', 'x-ms-summary': 'Difference' }),
  policy: policy.meta({
    description: 'The policy after the change (for a dry run: as it would be).',
    'x-ms-summary': 'Policy',
  }),
  revisionBefore: z
    .string()
    .meta({ description: 'The policy revision the change started from.', 'x-ms-summary': 'Revision before' }),
  revisionAfter: z.string().meta({
    description: 'The policy revision now (for a dry run: as it would be).',
    'x-ms-summary': 'Revision after',
  }),
  verified: z.boolean().meta({
    description: 'The policy read back after the write holds the change and nothing of ours moved.',
    'x-ms-summary': 'Verified',
  }),
  changeId: z.string().meta({
    description: 'Identifies this change in the audit trail (ListIsolationChanges).',
    'x-ms-summary': 'Change ID',
  }),
  attempts: z.number().int().meta({
    description: 'Upstream writes it took (more than 1 when another writer interfered).',
    'x-ms-summary': 'Attempts',
    'x-ms-visibility': 'advanced',
  }),
  concurrentChanges: diff.nullable().meta({
    description:
      'What another writer changed while this change ran (kept, not overwritten); null when nobody did.',
    'x-ms-summary': 'Concurrent changes',
    'x-ms-visibility': 'advanced',
  }),
});

export const dryRunField = z.boolean().optional().meta({
  description: 'Only show what would change; write nothing.',
  'x-ms-summary': 'Dry run',
  'x-ms-visibility': 'important',
});
export const reasonField = z.string().trim().max(1000).optional().meta({
  description: 'Why the change is made; kept in the audit trail.',
  'x-ms-summary': 'Reason',
  'x-ms-visibility': 'important',
});
export const ifRevisionField = z.string().trim().max(64).optional().meta({
  description:
    'Change only if the policy is still at this revision (from GetIsolationPolicy); otherwise fail with 412.',
  'x-ms-summary': 'If revision',
  'x-ms-visibility': 'advanced',
});

export const writeFields = { dryRun: dryRunField, reason: reasonField, ifRevision: ifRevisionField };

export const ruleParams = z.object({ tenant: tenantInput(' whose rule to change') });

export const auditRecord = z.object({
  changeId: z.string().meta({ description: 'Identifies the change.', 'x-ms-summary': 'Change ID' }),
  at: z.string().meta({ description: 'When the change started (UTC, ISO 8601).', 'x-ms-summary': 'At' }),
  actor: z.string().meta({ description: 'Who asked for the change.', 'x-ms-summary': 'Actor' }),
  action: z
    .enum(['upsertRule', 'removeRule', 'setEnabled', 'replacePolicy'])
    .meta({ description: 'What kind of change it was.', 'x-ms-summary': 'Action' }),
  reason: z.string().nullable().meta({ description: 'The reason given.', 'x-ms-summary': 'Reason' }),
  dryRun: z.boolean().meta({ description: 'A dry run (nothing written).', 'x-ms-summary': 'Dry run' }),
  tenantId: z
    .string()
    .meta({ description: 'The tenant whose policy it is.', 'x-ms-summary': 'Policy tenant ID' }),
  ruleTenantId: z
    .string()
    .nullable()
    .meta({ description: 'The rule tenant a one-rule change named.', 'x-ms-summary': 'Rule tenant ID' }),
  before: policy.nullable().meta({ description: 'The policy before.', 'x-ms-summary': 'Before' }),
  after: policy.nullable().meta({
    description: 'The policy after (as read back, or as planned when the outcome is unknown).',
    'x-ms-summary': 'After',
  }),
  diff: diff
    .nullable()
    .meta({ description: 'What the change adds, removes or alters.', 'x-ms-summary': 'Difference' }),
  correlationId: z.string().meta({
    description: 'The request correlation id (also sent upstream).',
    'x-ms-summary': 'Correlation ID',
  }),
  outcome: z.enum(['applied', 'dryRun', 'noChange', 'failed', 'conflict', 'unknown']).meta({
    description:
      'applied, dryRun, noChange, failed, conflict, or unknown (the relay stopped between announcing and finishing the write: read the policy).',
    'x-ms-summary': 'Outcome',
  }),
  verified: z
    .boolean()
    .nullable()
    .meta({ description: 'The read-back check passed.', 'x-ms-summary': 'Verified' }),
  completedAt: z
    .string()
    .nullable()
    .meta({ description: 'When the change finished (UTC).', 'x-ms-summary': 'Completed at' }),
  error: z
    .string()
    .nullable()
    .meta({ description: 'What went wrong, for failed and conflict outcomes.', 'x-ms-summary': 'Error' }),
});

/** Builds the isolation service from the app's collaborators (audit store from deps or
 *  config.auditStore, the per-tenant lock) and registers the six operations. */
