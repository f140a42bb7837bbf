// The zod schemas of the isolation operations: the single source of the connector definition,
// so every field carries its label and description.
import { z } from 'zod';
import { PATH_VALUE_MAX_LENGTH } from '../path-values.js';
import { field } from '../connector-definition/public.js';

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
  .meta(field('Direction', 'Which way connections with the other tenant are allowed.', { 'x-ms-visibility': 'important', 'x-ms-enum-values': DIRECTION_LABELS }));

export const storedDirection = z.enum(['Inbound', 'Outbound', 'Both', 'None']).meta(field('Direction', 'Which way connections are allowed; None for a stored rule with neither flag (it grants nothing).', { 'x-ms-enum-values': [...DIRECTION_LABELS, { value: 'None', displayName: 'None (grants nothing)' }] }));

export const tenantInput = (where: string) =>
  z
    .string()
    .trim()
    .min(1, { error: 'is required: a tenant id (GUID), * or a domain such as contoso.onmicrosoft.com' })
    .max(PATH_VALUE_MAX_LENGTH)
    .meta(field('Tenant', `The other tenant${where}: its tenant id (GUID), * for all tenants, or a verified domain such as contoso.onmicrosoft.com (resolved to the tenant id).`, { 'x-ms-visibility': 'important' }));

export const rule = z.object({
  tenantId: z.string().meta(field('Tenant ID', 'The other tenant: a lower-case tenant id (GUID) or * for all tenants.')),
  tenantDisplayName: z
    .string()
    .nullable()
    .meta(field('Tenant name', 'The tenant name upstream stored, if any.')),
  direction: storedDirection,
  inbound: z.boolean().meta(field('Inbound', "The other tenant's users may connect into this tenant.")),
  outbound: z.boolean().meta(field('Outbound', "This tenant's users may connect out to the other tenant.")),
});

export const policy = z.object({
  tenantId: z.string().meta(field('Policy tenant ID', 'The tenant this policy belongs to (the relay’s own tenant).')),
  enabled: z.boolean().meta(field('Enabled', 'Isolation is enforced: cross-tenant connections are blocked unless a rule allows them.')),
  configured: z.boolean().meta(field('Configured', 'False when the tenant has never stored an isolation policy.', { 'x-ms-visibility': 'advanced' })),
  rules: z.array(rule).meta(field('Rules', 'The allowed tenants and directions.')),
  revision: z.string().meta(field('Revision', 'Identifies this version of the policy; pass it as ifRevision to change it only if nobody else did.')),
});

export const diff = z.object({
  added: z.array(rule).meta(field('Added rules', 'Rules that are new.')),
  removed: z.array(rule).meta(field('Removed rules', 'Rules that are gone.')),
  changed: z
    .array(
      z.object({
        tenantId: z
          .string()
          .meta(field('Tenant ID', 'The tenant whose rule changed direction.')),
        directionBefore: storedDirection,
        directionAfter: storedDirection,
      }),
    )
    .meta(field('Changed rules', 'Rules whose direction changed.')),
  enabledBefore: z
    .boolean()
    .meta(field('Enabled before', 'Whether isolation was enforced before.')),
  enabledAfter: z
    .boolean()
    .meta(field('Enabled after', 'Whether isolation is enforced after.')),
});

export const writeAnswer = z.object({
  applied: z.boolean().meta(field('Applied', 'The change was written upstream (false for dry runs and no-ops).')),
  dryRun: z
    .boolean()
    .meta(field('Dry run', 'This was a dry run: nothing was written.')),
  changed: z.boolean().meta(field('Changed', 'The change alters the policy (false: it already said this, so nothing was written).')),
  diff: diff.meta(field('Difference', 'What the change adds, removes or alters.')),
  policy: policy.meta(field('Policy', 'The policy after the change (for a dry run: as it would be).')),
  revisionBefore: z
    .string()
    .meta(field('Revision before', 'The policy revision the change started from.')),
  revisionAfter: z.string().meta(field('Revision after', 'The policy revision now (for a dry run: as it would be).')),
  verified: z.boolean().meta(field('Verified', 'The policy read back after the write holds the change and nothing of ours moved.')),
  changeId: z.string().meta(field('Change ID', 'Identifies this change in the audit trail (ListIsolationChanges).')),
  attempts: z.number().int().meta(field('Attempts', 'Upstream writes it took (more than 1 when another writer interfered).', { 'x-ms-visibility': 'advanced' })),
  concurrentChanges: diff.nullable().meta(field('Concurrent changes', 'What another writer changed while this change ran (kept, not overwritten); null when nobody did.', { 'x-ms-visibility': 'advanced' })),
});

export const dryRunField = z.boolean().optional().meta(field('Dry run', 'Only show what would change; write nothing.', { 'x-ms-visibility': 'important' }));
export const reasonField = z.string().trim().max(1000).optional().meta(field('Reason', 'Why the change is made; kept in the audit trail.', { 'x-ms-visibility': 'important' }));
export const ifRevisionField = z.string().trim().max(64).optional().meta(field('If revision', 'Change only if the policy is still at this revision (from GetIsolationPolicy); otherwise fail with 412.', { 'x-ms-visibility': 'advanced' }));

export const writeFields = { dryRun: dryRunField, reason: reasonField, ifRevision: ifRevisionField };

export const ruleParams = z.object({ tenant: tenantInput(' whose rule to change') });

export const auditRecord = z.object({
  changeId: z.string().meta(field('Change ID', 'Identifies the change.')),
  at: z.string().meta(field('At', 'When the change started (UTC, ISO 8601).')),
  actor: z.string().meta(field('Actor', 'Who asked for the change.')),
  action: z
    .enum(['upsertRule', 'removeRule', 'setEnabled', 'replacePolicy', 'ensurePolicy'])
    .meta(field('Action', 'What kind of change it was.')),
  reason: z.string().nullable().meta(field('Reason', 'The reason given.')),
  dryRun: z.boolean().meta(field('Dry run', 'A dry run (nothing written).')),
  tenantId: z
    .string()
    .meta(field('Policy tenant ID', 'The tenant whose policy it is.')),
  ruleTenantId: z
    .string()
    .nullable()
    .meta(field('Rule tenant ID', 'The rule tenant a one-rule change named.')),
  before: policy.nullable().meta(field('Before', 'The policy before.')),
  after: policy.nullable().meta(field('After', 'The policy after (as read back, or as planned when the outcome is unknown).')),
  diff: diff
    .nullable()
    .meta(field('Difference', 'What the change adds, removes or alters.')),
  correlationId: z.string().meta(field('Correlation ID', 'The request correlation id (also sent upstream).')),
  outcome: z.enum(['applied', 'dryRun', 'noChange', 'failed', 'conflict', 'unknown']).meta(field('Outcome', 'applied, dryRun, noChange, failed, conflict, or unknown (the relay stopped between announcing and finishing the write: read the policy).')),
  verified: z
    .boolean()
    .nullable()
    .meta(field('Verified', 'The read-back check passed.')),
  completedAt: z
    .string()
    .nullable()
    .meta(field('Completed at', 'When the change finished (UTC).')),
  error: z
    .string()
    .nullable()
    .meta(field('Error', 'What went wrong, for failed and conflict outcomes.')),
});

/** Builds the isolation service from the app's collaborators (audit store from deps or
 *  config.auditStore, the per-tenant lock) and registers the six operations. */
